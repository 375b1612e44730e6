package dev.switchboard.delivery.ingest;

import dev.switchboard.contracts.envelope.Event;
import dev.switchboard.contracts.envelope.RawJson;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/** The streaming renderer writes exactly what {@link Event}'s databind serialization writes. */
class EnvelopeTemplateTests {

    private final JsonMapper json = JsonMapper.builder().build();

    @Test
    void rendersTheSameBytesAsTheEventsDatabindSerialization() {
        Event minimal = Event.builder().specVersion("1.0").id("a").type("t").source("/s")
                .time(Instant.parse("2026-12-01T10:00:00Z")).tenant("acme").topic("chat.room-1").partition(0).build();
        Map<String, Object> extensions = new TreeMap<>();
        extensions.put("zeta", "last \"quoted\" \u00e9");
        extensions.put("alpha", true);
        extensions.put("count", 42);
        Event full = Event.builder().specVersion("1.0").id("id-\u2603").type("chat.message").source("/v1/topics/chat")
                .time(Instant.parse("2026-12-01T10:00:00.123456Z")).dataContentType("application/json")
                .dataSchema("https://example.test/s").subject("room\n1").tenant("acme").topic("chat.room-1").partition(3)
                .partitionKey("k\t1").causationId("c").correlationId("r").ttl(60)
                .expiresAt(Instant.parse("2026-12-01T10:01:00.123456Z")).schemaVersion(2)
                .traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").tracestate("a=b")
                .extensions(extensions).data(RawJson.parse("{\"text\":\"h\\u00e9llo\",\"n\":[1,2.50,{\"x\":null}]}")).build();
        Event binary = Event.builder().specVersion("1.0").id("b").type("t").source("/s")
                .time(Instant.parse("2026-12-01T10:00:00.100Z")).dataContentType("application/octet-stream")
                .tenant("acme").topic("files").partition(0).dataBase64("AAEC").build();
        Event nullData = Event.builder().specVersion("1.0").id("n").type("t").source("/s")
                .time(Instant.parse("2026-12-01T10:00:00Z")).tenant("acme").topic("x").partition(0).data(RawJson.NULL).build();

        for (Event event : List.of(minimal, full, binary, nullData)) {
            for (long seq : new long[]{1, 9, 10, 12345, Long.MAX_VALUE}) {
                EnvelopeTemplate template = EnvelopeTemplate.render(json, event);
                byte[] spliced = new byte[template.length(seq)];
                assertThat(template.write(spliced, 0, seq)).isEqualTo(spliced.length);
                String expected = json.writeValueAsString(event.toBuilder().seq(seq).build());
                assertThat(new String(spliced, StandardCharsets.UTF_8)).isEqualTo(expected);
            }
        }
    }
}
