package dev.switchboard.contracts.errors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import tools.jackson.databind.exc.ValueInstantiationException;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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

    /** The user's copy of the contract, from this module's folder. */
    private static final Path USER_DOCS = Path.of("..", "docs", "protocol.md");

    /** {@code `code` 404} or {@code `a`/`b` 404}, as the Errors section lists them. */
    private static final Pattern LISTED = Pattern.compile("((?:`[a-z_]+`/)*`[a-z_]+`)\\s+(\\d{3})");

    private final JsonMapper json = JsonMapper.builder().build();

    @Test
    void everyProtocolCodeExistsWithItsStatus() {
        PROTOCOL.forEach((code, status) -> {
            assertThat(ErrorCode.fromCode(code)).as(code).isPresent();
            assertThat(ErrorCode.fromCode(code).get().status()).as(code).isEqualTo(status);
        });
    }

    @Test
    void theUsersDocsListTheSameCatalog() throws IOException {
        String docs = Files.readString(USER_DOCS);
        String errors = docs.substring(docs.indexOf("\n## Errors"), docs.indexOf("\n## ", docs.indexOf("\n## Errors") + 1));
        Map<String, Integer> listed = new TreeMap<>();
        Matcher m = LISTED.matcher(errors);
        while (m.find()) {
            for (String code : m.group(1).split("/")) {
                listed.put(code.replace("`", ""), Integer.parseInt(m.group(2)));
            }
        }
        assertThat(listed).isEqualTo(new TreeMap<>(PROTOCOL));
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
