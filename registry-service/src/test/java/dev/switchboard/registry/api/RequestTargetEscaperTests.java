package dev.switchboard.registry.api;

import org.junit.jupiter.api.Test;

import java.net.URI;

import static org.assertj.core.api.Assertions.assertThat;

class RequestTargetEscaperTests {

    @Test
    void escapesOnlyWhatAUriCannotHold() {
        assertThat(RequestTargetEscaper.escape("/admin/v1/tenants/acme/topics/ai.>")).isEqualTo("/admin/v1/tenants/acme/topics/ai.%3E");
        assertThat(RequestTargetEscaper.escape("/x/{a}|b^`\"<c>\\")).isEqualTo("/x/%7Ba%7D%7Cb%5E%60%22%3Cc%3E%5C");
        String clean = "/admin/v1/tenants/acme/topics/chat.*?limit=5&cursor=YzE6YQ";
        assertThat(RequestTargetEscaper.escape(clean)).isSameAs(clean);
        assertThat(URI.create(RequestTargetEscaper.escape("/t/ai.>?q={x}")).getPath()).isEqualTo("/t/ai.>");
    }
}
