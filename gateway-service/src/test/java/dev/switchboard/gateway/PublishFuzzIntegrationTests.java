package dev.switchboard.gateway;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue #16's bad input at scale: thousands of generated publish bodies — envelopes with every field
 * of the wrong type or value, unknown fields, batches with nulls and non-objects, truncated and deep
 * JSON, raw and invalid UTF-8 bytes, under each content type — and generated {@code after} / {@code limit}
 * values on reads, against the real platform. Every answer is a 2xx or a problem+json with a
 * {@code code}, never a 5xx, and the topic holds exactly the events the 2xx answers said were stored:
 * a refused request changes nothing.
 */
class PublishFuzzIntegrationTests {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int BODIES = 2_000;
    private static final int QUERIES = 500;
    private static final List<String> FIELDS = List.of("id", "type", "source", "subject", "time", "data", "datacontenttype",
            "partitionkey", "ttl", "specversion", "dataschema", "traceparent", "seq", "topic", "x-unknown");

    static TestPlatform platform;
    static TestPlatform.Key key;

    @BeforeAll
    static void start() {
        platform = TestPlatform.start(1);
        platform.createTenant("fuzz");
        platform.declareTopic("fuzz", "fz.t", Map.of());
        key = platform.createKey("fuzz", "publish", "subscribe");
    }

    @AfterAll
    static void stop() {
        if (platform != null) {
            platform.close();
        }
    }

    /** JSON values of every kind, the odd ones often. */
    private static Arbitrary<String> values(int depth) {
        Arbitrary<String> scalars = Arbitraries.oneOf(
                Arbitraries.strings().ofMaxLength(40).map(PublishFuzzIntegrationTests::quote),
                Arbitraries.strings().withCharRange('\u0000', '\uffff').ofMaxLength(20).map(PublishFuzzIntegrationTests::quote),
                Arbitraries.of("\"\"", "\"ok\"", "\"chat.question\"", "\"/v1/x\"", "\"2026-12-08T00:00:00Z\"", "\"PT1S\"",
                        "\"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\"", "\"" + "x".repeat(5000) + "\""),
                Arbitraries.of("0", "-1", "1.5", "1e400", "-0", "9223372036854775808", "60", "3600", "true", "false", "null"),
                Arbitraries.integers().map(String::valueOf));
        if (depth <= 0) {
            return scalars;
        }
        Arbitrary<String> arrays = values(depth - 1).list().ofMaxSize(3).map(l -> "[" + String.join(",", l) + "]");
        Arbitrary<String> objects = Combinators.combine(Arbitraries.strings().alpha().ofMaxLength(6), values(depth - 1))
                .as((k, v) -> quote(k) + ":" + v).list().ofMaxSize(3).map(l -> "{" + String.join(",", l) + "}");
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(6, scalars), net.jqwik.api.Tuple.of(1, arrays),
                net.jqwik.api.Tuple.of(1, objects));
    }

    /** An envelope: a valid one now and then, mostly some fields with whatever values. */
    private static Arbitrary<String> envelopes() {
        Arbitrary<String> field = Combinators.combine(Arbitraries.of(FIELDS), values(2)).as((k, v) -> quote(k) + ":" + v);
        Arbitrary<String> some = field.list().ofMaxSize(6).map(l -> "{" + String.join(",", l) + "}");
        Arbitrary<String> valid = Arbitraries.integers().between(0, 1_000_000)
                .map(n -> "{\"id\":\"fz-" + n + "\",\"type\":\"t\",\"data\":{\"n\":" + n + "}}");
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(3, some), net.jqwik.api.Tuple.of(1, valid));
    }

    private record Case(String contentType, byte[] body) {
        @Override
        public String toString() {
            return contentType + " " + new String(body, 0, Math.min(body.length, 300), StandardCharsets.ISO_8859_1);
        }
    }

    private static Arbitrary<Case> cases() {
        Arbitrary<String> bodies = Arbitraries.oneOf(
                envelopes(),
                Arbitraries.oneOf(envelopes(), Arbitraries.of("null", "1", "\"x\"", "[]"))
                        .list().ofMaxSize(5).map(l -> "[" + String.join(",", l) + "]"),
                envelopes().map(e -> e.substring(0, e.length() / 2)),
                Arbitraries.integers().between(1, 300).map(d -> "[".repeat(d) + "]".repeat(d)),
                Arbitraries.of("", " ", "{", "}", "[null]", "{\"type\":\"t\"}{\"type\":\"t\"}", "{\"type\":\"t\",\"type\":\"u\"}"));
        Arbitrary<byte[]> raw = Arbitraries.oneOf(
                bodies.map(b -> b.getBytes(StandardCharsets.UTF_8)),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(64),
                Arbitraries.of(new byte[]{'{', '"', 't', 'y', 'p', 'e', '"', ':', '"', (byte) 0xC0, (byte) 0xAF, '"', '}'},
                        new byte[]{'{', '"', 'i', 'd', '"', ':', '"', (byte) 0xE0, (byte) 0x80, (byte) 0xAF, '"', ',', '"', 't', 'y', 'p', 'e', '"',
                                ':', '"', 't', '"', '}'},
                        new byte[]{'[', (byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80, ']'}));
        Arbitrary<String> types = Arbitraries.of("application/json", "application/cloudevents+json", "application/cloudevents-batch+json",
                "text/plain", "application/json; charset=ISO-8859-1", "application/octet-stream", "application/xml");
        return Combinators.combine(types, raw).as(Case::new);
    }

    private static String quote(String text) {
        return JSON.writeValueAsString(text);
    }

    @Test
    void generatedPublishesAreStoredOrRefusedWithAProblemAndRefusalsChangeNothing() {
        WebTestClient gateway = platform.gatewayClient(0);
        List<Case> cases = cases().sampleStream().limit(BODIES).toList();
        List<String> faults = new ArrayList<>();
        long stored = 0;
        java.util.Set<String> storedIds = new java.util.HashSet<>();
        for (Case c : cases) {
            EntityExchangeResult<byte[]> answer = gateway.post().uri("/v1/topics/fz.t/events").header("Authorization", key.bearer())
                    .header("Content-Type", c.contentType()).bodyValue(c.body()).exchange().expectBody().returnResult();
            int status = answer.getStatus().value();
            byte[] body = answer.getResponseBody() == null ? new byte[0] : answer.getResponseBody();
            if (status == 200 || status == 201) {
                JsonNode json = JSON.readTree(body);
                List<JsonNode> results = new ArrayList<>();
                if (json.has("results")) {
                    json.path("results").forEach(results::add);
                } else {
                    results.add(json);
                }
                for (JsonNode r : results) {
                    if (!r.path("duplicate").asBoolean() && storedIds.add(r.path("id").asString())) {
                        stored++;
                    }
                }
            } else if (!problem(status, answer.getResponseHeaders().getContentType(), body)) {
                faults.add(status + " " + new String(body, StandardCharsets.UTF_8) + " for " + c);
            }
        }
        assertThat(faults).as("answers that are neither stored nor a problem+json 4xx").isEmpty();
        JsonNode read = gateway.get().uri("/v1/topics/fz.t/events?after=0&limit=1").header("Authorization", key.bearer())
                .exchange().expectStatus().isOk().expectBody(JsonNode.class).returnResult().getResponseBody();
        assertThat(read.path("head").asLong()).as("the topic holds what the 2xx answers stored, nothing of the refused")
                .isEqualTo(stored);
        System.out.printf("[fuzz] %d publishes: %d events stored, the rest refused with a problem%n", cases.size(), stored);
    }

    @Test
    void generatedReadParametersAreAnsweredOrRefusedWithAProblem() {
        WebTestClient gateway = platform.gatewayClient(0);
        // As they go on the wire: encoded, except the raw escapes that decode to NUL and to a byte that is not UTF-8.
        Arbitrary<String> numbers = Arbitraries.oneOf(Arbitraries.of("", "0", "-1", "1", "0x10", "٣", "1e3", "1.5", "+1", " 1",
                                "9223372036854775807", "9223372036854775808", "99999999999999999999", "a", "null")
                        .map(s -> java.net.URLEncoder.encode(s, StandardCharsets.UTF_8)),
                Arbitraries.of("%00", "%FF", "%C0%AF"),
                Arbitraries.strings().ofMaxLength(8).map(s -> java.net.URLEncoder.encode(s, StandardCharsets.UTF_8)));
        List<String> queries = Combinators.combine(numbers, numbers).as((after, limit) -> "after=" + after + "&limit=" + limit)
                .sampleStream().limit(QUERIES).collect(Collectors.toList());
        // The edges every run tries: an int parameter given a long (once a 500: the narrowing's ArithmeticException).
        for (String edge : List.of("9223372036854775807", "2147483648", "-2147483649", "9223372036854775808")) {
            queries.add("after=0&limit=" + edge);
            queries.add("after=" + edge + "&limit=1");
        }
        List<String> faults = new ArrayList<>();
        for (String query : queries) {
            EntityExchangeResult<byte[]> answer = gateway.get().uri(java.net.URI.create(platform.gatewayUrl(0) + "/v1/topics/fz.t/events?" + query))
                    .header("Authorization", key.bearer()).exchange().expectBody().returnResult();
            int status = answer.getStatus().value();
            byte[] body = answer.getResponseBody() == null ? new byte[0] : answer.getResponseBody();
            if (status != 200 && !problem(status, answer.getResponseHeaders().getContentType(), body)) {
                faults.add(status + " " + new String(body, StandardCharsets.UTF_8) + " for ?" + query);
            }
        }
        assertThat(faults).as("answers that are neither a page nor a problem+json 4xx").isEmpty();
    }

    /** A 4xx whose body is our problem+json with a code. */
    private static boolean problem(int status, MediaType type, byte[] body) {
        if (status < 400 || status >= 500 || type == null || !type.isCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)) {
            return false;
        }
        try {
            return !JSON.readTree(body).path("code").asString("").isEmpty();
        } catch (RuntimeException e) {
            return false;
        }
    }
}
