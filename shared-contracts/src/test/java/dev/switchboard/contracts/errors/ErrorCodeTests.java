package dev.switchboard.contracts.errors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import tools.jackson.databind.exc.ValueInstantiationException;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.util.Arrays;
import java.util.Map;

import static java.util.Map.entry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ErrorCodeTests {

    /** The "Errors" section of PROTOCOL.md, verbatim. */
    private static final Map<String, Integer> PROTOCOL = Map.ofEntries(
            entry("unauthenticated", 401),
            entry("forbidden", 403),
            entry("topic_not_found", 404),
            entry("not_found", 404),
            entry("invalid_request", 400),
            entry("method_not_allowed", 405),
            entry("conflict", 409),
            entry("payload_too_large", 413),
            entry("unsupported_schema_version", 422),
            entry("rate_limited", 429),
            entry("slow_down", 429),
            entry("unavailable", 503));

    private final JsonMapper json = JsonMapper.builder().build();

    @Test
    void everyProtocolCodeExistsWithItsStatus() {
        PROTOCOL.forEach((code, status) -> {
            assertThat(ErrorCode.fromCode(code)).as(code).isPresent();
            assertThat(ErrorCode.fromCode(code).get().status()).as(code).isEqualTo(status);
        });
    }

    @Test
    void theOnlyCodeBeyondTheProtocolIsInternal() {
        assertThat(Arrays.stream(ErrorCode.values()).map(ErrorCode::code).filter(c -> !PROTOCOL.containsKey(c)))
                .containsExactly("internal");
        assertThat(ErrorCode.INTERNAL.status()).isEqualTo(500);
    }

    @Test
    void unknownCodesAreAbsent() {
        assertThat(ErrorCode.fromCode("TOPIC_NOT_FOUND")).isEmpty();
        assertThat(ErrorCode.fromCode("nope")).isEmpty();
        assertThat(ErrorCode.fromCode(null)).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(ErrorCode.class)
    void typeIsTheProblemUrn(ErrorCode code) {
        assertThat(code.type()).isEqualTo(URI.create("urn:switchboard:problem:" + code.code()));
        assertThat(code.title()).isNotBlank();
    }

    @ParameterizedTest
    @EnumSource(ErrorCode.class)
    void jsonIsTheWireCode(ErrorCode code) {
        String written = json.writeValueAsString(code);
        assertThat(written).isEqualTo("\"" + code.code() + "\"");
        assertThat(json.readValue(written, ErrorCode.class)).isSameAs(code);
    }

    @Test
    void readingAnUnknownCodeFails() {
        assertThatThrownBy(() -> json.readValue("\"teapot\"", ErrorCode.class))
                .isInstanceOf(ValueInstantiationException.class)
                .hasMessageContaining("unknown error code: teapot");
    }
}
