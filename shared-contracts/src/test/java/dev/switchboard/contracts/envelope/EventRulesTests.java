package dev.switchboard.contracts.envelope;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

class EventRulesTests {

    private static final String TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    /** Everything a producer may set, each at a legal value. */
    private static Event.Builder full() {
        return Event.builder().specVersion("1.0").id("order-1").source("/orders/eu").type("order.created")
                .dataContentType("application/json; charset=utf-8").dataSchema("https://example.com/s.json")
                .subject("o-1").partitionKey("customer-1").causationId("c").correlationId("flow")
                .ttl(3600).schemaVersion(1).traceparent(TRACEPARENT).tracestate("a=b")
                .extension("region", "eu").extension("retries", 3).extension("sampled", false)
                .extension("big", (long) Integer.MAX_VALUE).data(RawJson.parse("{\"n\":1}"));
    }

    @Test
    void aMinimalEventIsAccepted() {
        assertThat(EventRules.producerViolations(Event.builder().type("t").build())).isEmpty();
    }

    @Test
    void aFullEventIsAccepted() {
        assertThat(EventRules.producerViolations(full().build())).isEmpty();
    }

    @Test
    void aProducersTimeIsAcceptedBecauseTheServerOverwritesIt() {
        assertThat(EventRules.producerViolations(full().time(Instant.EPOCH).build())).isEmpty();
    }

    @Test
    void limitsAreInclusive() {
        Event atLimits = full().id("!".repeat(128)).type("t".repeat(256)).source("s".repeat(512))
                .ttl(EventRules.MAX_TTL_SECONDS).partitionKey("k".repeat(256)).causationId("c".repeat(128))
                .correlationId("c".repeat(128)).extension("a".repeat(20), "x").ttl(0).build();
        assertThat(EventRules.producerViolations(atLimits)).isEmpty();
        assertThat(EventRules.MAX_TTL_SECONDS).isEqualTo(315_360_000);
    }

    static Stream<Arguments> violations() {
        return Stream.of(
                violation(b -> b.specVersion("0.3"), "specversion must be \"1.0\""),
                violation(b -> b.id(""), "id must be 1 to 128"),
                violation(b -> b.id("x".repeat(129)), "id must be 1 to 128"),
                violation(b -> b.id("a b"), "id must be 1 to 128 printable ASCII"),
                violation(b -> b.id("caf\u00e9"), "id must be 1 to 128 printable ASCII"),
                violation(b -> b.id("a\tb"), "id must be 1 to 128 printable ASCII"),
                violation(b -> b.type(null), "type is required"),
                violation(b -> b.type(""), "type must be 1 to 256"),
                violation(b -> b.type("t".repeat(257)), "type must be 1 to 256"),
                violation(b -> b.source(""), "source must be a non-empty URI-reference"),
                violation(b -> b.source("has space"), "source must be a non-empty URI-reference"),
                violation(b -> b.source("/" + "s".repeat(512)), "source must be a non-empty URI-reference"),
                violation(b -> b.dataContentType("json"), "datacontenttype must be a media type"),
                violation(b -> b.dataSchema("relative/path"), "dataschema must be an absolute URI"),
                violation(b -> b.subject(""), "subject must be 1 to 512"),
                violation(b -> b.tenant("acme"), "tenant is set by the server"),
                violation(b -> b.topic("a.b"), "topic is set by the server"),
                violation(b -> b.seq(1L), "seq is set by the server"),
                violation(b -> b.partition(0), "partition is set by the server"),
                violation(b -> b.expiresAt(Instant.EPOCH), "expiresat is set by the server"),
                violation(b -> b.partitionKey(""), "partitionkey must be 1 to 256"),
                violation(b -> b.partitionKey("k".repeat(257)), "partitionkey must be 1 to 256"),
                violation(b -> b.causationId("c".repeat(129)), "causationid must be 1 to 128"),
                violation(b -> b.correlationId("c".repeat(129)), "correlationid must be 1 to 128"),
                violation(b -> b.ttl(-1), "ttl must be 0 to 315360000 seconds (10 years), got -1"),
                violation(b -> b.ttl(EventRules.MAX_TTL_SECONDS + 1), "ttl must be 0 to 315360000"),
                violation(b -> b.schemaVersion(0), "schemaversion must be at least 1, got 0"),
                violation(b -> b.tracestate("x".repeat(513)), "tracestate must be at most 512"),
                violation(b -> b.extension("Region", "eu"), "extension attribute name \"Region\" is not legal"),
                violation(b -> b.extension("my_ext", "x"), "extension attribute name \"my_ext\" is not legal"),
                violation(b -> b.extension("a".repeat(21), "x"), "is not legal: use 1 to 20 lowercase"),
                violation(b -> b.extension("ratio", 0.5), "extension attribute ratio must be a string"),
                violation(b -> b.extension("obj", Map.of("a", 1)), "extension attribute obj must be a string"),
                violation(b -> b.extension("wide", Integer.MAX_VALUE + 1L), "extension attribute wide must be"),
                violation(b -> b.extension("huge", BigInteger.TWO.pow(40)), "extension attribute huge must be"),
                violation(b -> b.dataBase64("AAEC"), "data and data_base64 must not both be present"),
                violation(b -> b.data(null).dataBase64("not base64!"), "data_base64 must be base64"));
    }

    private static Arguments violation(UnaryOperator<Event.Builder> change, String message) {
        return arguments(change, message);
    }

    @ParameterizedTest
    @MethodSource
    void violations(UnaryOperator<Event.Builder> change, String message) {
        List<String> violations = EventRules.producerViolations(change.apply(full()).build());
        assertThat(violations).hasSize(1);
        assertThat(violations.get(0)).contains(message);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
            ""})
    void malformedTraceparents(String traceparent) {
        assertThat(EventRules.isValidTraceparent(traceparent)).isFalse();
        assertThat(EventRules.producerViolations(full().traceparent(traceparent).build()))
                .singleElement().asString().startsWith("traceparent must be a W3C traceparent");
    }

    @Test
    void validTraceparents() {
        assertThat(EventRules.isValidTraceparent(TRACEPARENT)).isTrue();
        assertThat(EventRules.isValidTraceparent("00-00000000000000000000000000000001-0000000000000001-00")).isTrue();
        assertThat(EventRules.isValidTraceparent(null)).isFalse();
    }

    @Test
    void everyViolationIsReportedAtOnce() {
        Event bad = Event.builder().specVersion("2").id(" ").tenant("acme").ttl(-5).schemaVersion(-1)
                .extension("Bad", 1).data(RawJson.NULL).dataBase64("AA==").build();
        assertThat(EventRules.producerViolations(bad)).hasSize(8)
                .anySatisfy(v -> assertThat(v).startsWith("type is required"));
    }

    @Test
    void extensionNames() {
        assertThat(EventRules.isValidExtensionName("partitionkey")).isTrue();
        assertThat(EventRules.isValidExtensionName("x1")).isTrue();
        assertThat(EventRules.isValidExtensionName("")).isFalse();
        assertThat(EventRules.isValidExtensionName("a-b")).isFalse();
        assertThat(EventRules.isValidExtensionName(null)).isFalse();
    }

    @Test
    void longIllegalNamesAreShortenedInMessages() {
        List<String> violations = EventRules.producerViolations(full().extension("X".repeat(1000), 1).build());
        assertThat(violations).singleElement().asString().hasSizeLessThan(200);
    }
}
