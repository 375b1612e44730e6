package dev.switchboard.contracts.envelope;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class BinaryModeTests {

    @ParameterizedTest
    @CsvSource({"ce-id, id", "CE-ID, id", "Ce-PartitionKey, partitionkey", "ce-specversion, specversion",
            "ce-traceparent, traceparent", "ce-myext, myext", "Content-Type, datacontenttype",
            "CONTENT-TYPE, datacontenttype"})
    void headerToAttribute(String header, String attribute) {
        assertThat(BinaryMode.attributeOf(header)).contains(attribute);
    }

    @ParameterizedTest
    @ValueSource(strings = {"ce-", "cex-id", "x-ce-id", "Accept", "traceparent", "content-length"})
    void otherHeadersCarryNoAttribute(String header) {
        assertThat(BinaryMode.attributeOf(header)).isEmpty();
    }

    @Test
    void attributeToHeader() {
        assertThat(BinaryMode.headerOf("id")).isEqualTo("ce-id");
        assertThat(BinaryMode.headerOf("partitionkey")).isEqualTo("ce-partitionkey");
        assertThat(BinaryMode.headerOf("datacontenttype")).isEqualTo("Content-Type");
        assertThatIllegalArgumentException().isThrownBy(() -> BinaryMode.headerOf("data"));
        assertThatIllegalArgumentException().isThrownBy(() -> BinaryMode.headerOf("data_base64"));
    }

    @Test
    void percentEncodingFollowsTheHttpBinding() {
        // The example of the CloudEvents HTTP binding, section 3.1.3.2.
        assertThat(BinaryMode.encode("Euro \u20ac \uD83D\uDE00")).isEqualTo("Euro%20%E2%82%AC%20%F0%9F%98%80");
        assertThat(BinaryMode.encode("a\"b%c")).isEqualTo("a%22b%25c");
        assertThat(BinaryMode.encode("/orders?x=1&y=~")).isEqualTo("/orders?x=1&y=~");
        assertThat(BinaryMode.encode("\t\u007f")).isEqualTo("%09%7F");
        assertThat(BinaryMode.decode("Euro%20%E2%82%AC%20%F0%9F%98%80")).isEqualTo("Euro \u20ac \uD83D\uDE00");
        assertThat(BinaryMode.decode("%e2%82%ac")).isEqualTo("\u20ac");
    }

    @Test
    void decodingUnquotesFirst() {
        assertThat(BinaryMode.decode("\"Euro%20%E2%82%AC\"")).isEqualTo("Euro \u20ac");
        assertThat(BinaryMode.decode("  \"a\\\"b\"  ")).isEqualTo("a\"b");
        assertThat(BinaryMode.decode("\"")).isEqualTo("\"");
    }

    @ParameterizedTest
    @ValueSource(strings = {"%", "%4", "abc%zz", "%G0", "%FF", "%C3", "%ED%A0%80"})
    void malformedEncodingsAreRefused(String value) {
        assertThatIllegalArgumentException().isThrownBy(() -> BinaryMode.decode(value));
    }

    @Property
    void encodingRoundTripsAndYieldsSafeAscii(@ForAll("wellFormedStrings") String value) {
        String encoded = BinaryMode.encode(value);
        assertThat(encoded.chars()).allMatch(c -> c >= 0x21 && c <= 0x7e && c != '"');
        assertThat(BinaryMode.decode(encoded)).isEqualTo(value);
    }

    @Test
    void readBuildsAnEventFromHeaders() {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("CE-SpecVersion", "1.0");
        headers.put("ce-id", "order%201");
        headers.put("ce-type", "order.created");
        headers.put("ce-source", "/orders");
        headers.put("ce-time", "2026-01-02T05:04:05+02:00");
        headers.put("Content-Type", " application/json ");
        headers.put("ce-partitionkey", "k");
        headers.put("ce-ttl", "60");
        headers.put("ce-schemaversion", "2");
        headers.put("ce-seq", "12");
        headers.put("ce-partition", "1");
        headers.put("ce-expiresat", "2026-01-02T03:05:05Z");
        headers.put("ce-traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        headers.put("ce-region", "\"eu west\"");
        headers.put("Authorization", "Bearer x");

        Event event = BinaryMode.read(headers).data(RawJson.parse("{}")).build();

        assertThat(event).isEqualTo(Event.builder().specVersion("1.0").id("order 1").type("order.created")
                .source("/orders").time(Instant.parse("2026-01-02T03:04:05Z")).dataContentType("application/json")
                .partitionKey("k").ttl(60).schemaVersion(2).seq(12L).partition(1)
                .expiresAt(Instant.parse("2026-01-02T03:05:05Z"))
                .traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
                .extension("region", "eu west").data(RawJson.parse("{}")).build());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "ce-ttl|ten|ce-ttl must be an integer",
            "ce-seq|1.5|ce-seq must be an integer",
            "ce-time|yesterday|ce-time must be an RFC 3339 timestamp",
            "ce-id|%zz|ce-id: malformed percent-encoding",
            "ce-data|{}|the data travels in the body"})
    void readRefusesBadValues(String header, String value, String message) {
        assertThatIllegalArgumentException().isThrownBy(() -> BinaryMode.read(Map.of(header, value)))
                .withMessageContaining(message);
    }

    @Test
    void readRefusesAnAttributeSentTwice() {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("ce-id", "a");
        headers.put("CE-ID", "b");
        assertThatIllegalArgumentException().isThrownBy(() -> BinaryMode.read(headers))
                .withMessageContaining("id is sent twice");
    }

    @Test
    void writeThenReadRoundTrips() {
        Event event = Event.builder().specVersion("1.0").id("\u00e9v\u00e9nement 1").type("t").source("/s")
                .time(Instant.parse("2026-01-02T03:04:05.123Z")).dataContentType("text/plain; charset=utf-8")
                .subject("s\"q").tenant("acme").topic("a.b").seq(9L).partition(2).causationId("c")
                .correlationId("r").ttl(1).expiresAt(Instant.parse("2026-01-02T03:04:06.123Z")).schemaVersion(3)
                .tracestate("a=b,c=d").extension("region", "eu").build();

        Map<String, String> headers = BinaryMode.write(event);

        assertThat(headers).containsEntry("ce-id", "%C3%A9v%C3%A9nement%201")
                .containsEntry("Content-Type", "text/plain; charset=utf-8")
                .containsEntry("ce-time", "2026-01-02T03:04:05.123Z")
                .containsEntry("ce-subject", "s%22q")
                .containsEntry("ce-region", "eu")
                .doesNotContainKey("ce-data");
        assertThat(BinaryMode.read(headers).build()).isEqualTo(event);
    }

    @Test
    void binaryModeTurnsTypedExtensionsIntoStrings() {
        Event event = Event.builder().type("t").extension("retries", 3).extension("sampled", true).build();
        Event read = BinaryMode.read(BinaryMode.write(event)).build();
        assertThat(read.extensions()).containsEntry("retries", "3").containsEntry("sampled", "true");
    }

    @Provide
    Arbitrary<String> wellFormedStrings() {
        return Arbitraries.integers().between(0, Character.MAX_CODE_POINT)
                .filter(cp -> cp < Character.MIN_SURROGATE || cp > Character.MAX_SURROGATE)
                .list().ofMaxSize(20)
                .map(cps -> cps.stream().collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
                        .toString());
    }
}
