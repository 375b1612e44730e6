package dev.switchboard.contracts.envelope;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.DatabindException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.cfg.DateTimeFeature;
import tools.jackson.databind.json.JsonMapper;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EventJsonTests {

    private static final String DATA = """
            {"text":"h\\u00e9llo \\"you\\"\\n","big":123456789012345678901234567890,\
            "pi":3.14159265358979323846264338327950288419716939937510,"tiny":1e-400,"huge":-1.5E+400,\
            "list":[1,-0.0,true,false,null,{"nested":[]}],"dup":1,"dup":2}""";
    private static final String DATA_COMPACT = "{\"text\":\"h\u00e9llo \\\"you\\\"\\n\","
            + "\"big\":123456789012345678901234567890,\"pi\":3.14159265358979323846264338327950288419716939937510,"
            + "\"tiny\":1e-400,\"huge\":-1.5E+400,\"list\":[1,-0.0,true,false,null,{\"nested\":[]}],\"dup\":1,\"dup\":2}";

    private final JsonMapper json = JsonMapper.builder().build();

    @Test
    void everyAttributeUnknownExtensionsAndExactDataRoundTrip() {
        String in = """
                {"specversion":"1.0","id":"e-1","source":"/orders","type":"order.created",
                 "time":"2026-01-02T05:04:05.123456+02:00","datacontenttype":"application/json",
                 "dataschema":"https://example.com/order.json","subject":"o-7",
                 "tenant":"acme","topic":"orders.eu","seq":9007199254740993,"partition":3,
                 "partitionkey":"customer-1","causationid":"c-1","correlationid":"flow-1","ttl":3600,
                 "expiresat":"2026-01-02T04:04:05Z","schemaversion":2,
                 "traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","tracestate":"k=v",
                 "extensions":"a legal name","region":"eu-1","retries":3,"sampled":true,"wide":12345678901,
                 "data":%s}""".formatted(DATA);

        Event event = json.readValue(in, Event.class);

        assertThat(event.specVersion()).isEqualTo("1.0");
        assertThat(event.time()).isEqualTo(Instant.parse("2026-01-02T03:04:05.123456Z"));
        assertThat(event.expiresAt()).isEqualTo(Instant.parse("2026-01-02T04:04:05Z"));
        assertThat(event.seq()).isEqualTo(9007199254740993L);
        assertThat(event.partition()).isEqualTo(3);
        assertThat(event.partitionKey()).isEqualTo("customer-1");
        assertThat(event.causationId()).isEqualTo("c-1");
        assertThat(event.correlationId()).isEqualTo("flow-1");
        assertThat(event.ttl()).isEqualTo(3600);
        assertThat(event.schemaVersion()).isEqualTo(2);
        assertThat(event.tracestate()).isEqualTo("k=v");
        assertThat(event.extensions()).containsExactly(
                Map.entry("extensions", "a legal name"), Map.entry("region", "eu-1"), Map.entry("retries", 3),
                Map.entry("sampled", true), Map.entry("wide", 12345678901L));
        assertThat(event.data().json()).isEqualTo(DATA_COMPACT);

        String written = json.writeValueAsString(event);
        assertThat(written).contains("\"time\":\"2026-01-02T03:04:05.123456Z\"", "\"seq\":9007199254740993",
                "\"data\":" + DATA_COMPACT, "\"extensions\":\"a legal name\"", "\"retries\":3");
        assertThat(written).startsWith("{\"specversion\":\"1.0\",\"id\":\"e-1\"");
        assertThat(json.readValue(written, Event.class)).isEqualTo(event);
    }

    @Test
    void absentAttributesAreNotWritten() {
        Event event = Event.builder().type("t").build();
        assertThat(json.writeValueAsString(event)).isEqualTo("{\"type\":\"t\"}");
        assertThat(event.extensions()).isEmpty();
        assertThat(json.readValue("{\"type\":\"t\"}", Event.class)).isEqualTo(event);
    }

    @Test
    void dataNullIsKeptApartFromNoData() {
        Event withNull = json.readValue("{\"type\":\"t\",\"data\":null}", Event.class);
        assertThat(withNull.data()).isEqualTo(RawJson.NULL);
        assertThat(json.writeValueAsString(withNull)).isEqualTo("{\"type\":\"t\",\"data\":null}");
        assertThat(json.readValue("{\"type\":\"t\"}", Event.class).data()).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"{}", "[]", "\"\"", "\"x\\u0000\\t\\\\\"", "0", "-1", "18446744073709551617",
            "1.0", "1.00", "0.1e-999999", "true", "false", "null", "[[[[{\"a\":[null]}]]]]", "\"\uD83D\uDE00\""})
    void anyJsonValueRoundTripsAsData(String data) {
        Event event = json.readValue("{\"type\":\"t\",\"data\":" + data + "}", Event.class);
        assertThat(event.data().json()).isEqualTo(data);
        assertThat(json.writeValueAsString(event)).isEqualTo("{\"type\":\"t\",\"data\":" + data + "}");
    }

    @Test
    void dataBase64IsWrittenUnderItsCloudEventsName() {
        Event event = Event.builder().type("t").dataBase64("AAEC").build();
        assertThat(json.writeValueAsString(event)).isEqualTo("{\"type\":\"t\",\"data_base64\":\"AAEC\"}");
        assertThat(json.readValue("{\"type\":\"t\",\"data_base64\":\"AAEC\"}", Event.class)).isEqualTo(event);
    }

    @Test
    void timestampsStayRfc3339EvenWhenAMapperPrefersNumbers() {
        JsonMapper numeric = JsonMapper.builder().enable(DateTimeFeature.WRITE_DATES_AS_TIMESTAMPS).build();
        Event event = Event.builder().type("t").time(Instant.parse("2026-01-02T03:04:05Z"))
                .expiresAt(Instant.parse("2026-01-03T03:04:05.5Z")).build();
        String written = numeric.writeValueAsString(event);
        assertThat(written).contains("\"time\":\"2026-01-02T03:04:05Z\"", "\"expiresat\":\"2026-01-03T03:04:05.500Z\"");
        assertThat(numeric.readValue(written, Event.class)).isEqualTo(event);
    }

    @Test
    void eventsNestInOtherTypesAndConvertExactly() {
        record Frame(String op, String topic, Event event) {
        }
        Event event = Event.builder().type("t").extension("region", "eu").data(RawJson.parse(DATA)).build();
        Frame frame = new Frame("event", "chat.x", event);

        assertThat(json.readValue(json.writeValueAsString(frame), Frame.class)).isEqualTo(frame);
        List<Event> batch = json.readValue(json.writeValueAsString(List.of(event, event)), new TypeReference<>() {
        });
        assertThat(batch).containsExactly(event, event);
    }

    @Test
    void convertingThroughBuffersAndTreesKeepsExactValues() {
        Event event = Event.builder().type("t").extension("region", "eu").data(RawJson.parse(DATA)).build();

        // A token buffer and a tree take typed numbers: values stay exact, exponent spelling may not.
        Event converted = json.convertValue(event, Event.class);
        assertThat(converted.extensions()).isEqualTo(event.extensions());
        assertThat(converted.data().json()).contains("\"pi\":3.14159265358979323846264338327950288419716939937510",
                "\"big\":123456789012345678901234567890", "\"huge\":-1.5E+400", "\"tiny\":1E-400");

        JsonNode tree = json.valueToTree(event);
        assertThat(tree.get("data").get("big").bigIntegerValue())
                .isEqualTo(new BigInteger("123456789012345678901234567890"));
        assertThat(tree.get("data").get("pi").decimalValue())
                .isEqualTo(new BigDecimal("3.14159265358979323846264338327950288419716939937510"));
        assertThat(tree.get("region").asString()).isEqualTo("eu");
        // A tree keeps only the last of duplicate keys.
        assertThat(json.treeToValue(tree, Event.class).data().json())
                .contains("\"pi\":3.14159265358979323846264338327950288419716939937510", "\"dup\":2")
                .doesNotContain("\"dup\":1");

        Event plain = Event.builder().type("t").data(RawJson.parse("{\"a\":[1,2.5,\"x\",null,true]}")).build();
        assertThat(json.convertValue(plain, Event.class)).isEqualTo(plain);
    }

    @Test
    void extensionsAreSortedAndDropNulls() {
        Event event = Event.builder().type("t").extension("zeta", 1).extension("alpha", "a").extension("gone", "x")
                .extension("gone", null).build();
        assertThat(event.extensions().keySet()).containsExactly("alpha", "zeta");
        assertThat(json.writeValueAsString(event)).isEqualTo("{\"type\":\"t\",\"alpha\":\"a\",\"zeta\":1}");
        assertThatThrownBy(() -> event.extensions().put("x", 1)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void anExtensionCannotShadowAnAttribute() {
        for (String name : List.of("tenant", "id", "data", "data_base64", "time")) {
            assertThatIllegalArgumentException().isThrownBy(() -> Event.builder().extension(name, "x").build());
        }
    }

    @Test
    void toBuilderCopiesEverythingAndLeavesTheOriginalAlone() {
        Event original = json.readValue("""
                {"id":"a","type":"t","ttl":5,"partitionkey":"k","region":"eu","data":[1]}""", Event.class);
        Event filled = original.toBuilder().tenant("acme").topic("x.y").seq(7L).partition(0)
                .time(Instant.EPOCH).build();
        assertThat(original.toBuilder().build()).isEqualTo(original);
        assertThat(original.tenant()).isNull();
        assertThat(filled.tenant()).isEqualTo("acme");
        assertThat(filled.extensions()).isEqualTo(original.extensions());
        assertThat(filled.data()).isEqualTo(original.data());
        assertThat(filled.partitionKey()).isEqualTo("k");
    }

    @Test
    void malformedJsonIsRefused() {
        assertThatThrownBy(() -> json.readValue("{\"type\":\"t\",\"data\":{\"a\":}", Event.class))
                .isInstanceOf(tools.jackson.core.JacksonException.class);
        assertThatThrownBy(() -> json.readValue("{\"type\":\"t\",\"time\":\"yesterday\"}", Event.class))
                .isInstanceOf(DatabindException.class);
    }
}
