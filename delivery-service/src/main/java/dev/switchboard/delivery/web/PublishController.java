package dev.switchboard.delivery.web;

import dev.switchboard.contracts.envelope.BinaryMode;
import dev.switchboard.contracts.envelope.Event;
import dev.switchboard.contracts.envelope.RawJson;
import dev.switchboard.contracts.errors.Headers;
import dev.switchboard.delivery.ingest.PublishResult;
import dev.switchboard.delivery.ingest.PublishService;
import dev.switchboard.platform.problem.SwitchboardException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.DatabindException;
import tools.jackson.databind.json.JsonMapper;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Publishing in every CloudEvents HTTP mode, so existing emitters work as they are: structured
 * ({@code application/cloudevents+json}, or {@code application/json}), batch
 * ({@code application/cloudevents-batch+json}, or a JSON array), and binary ({@code ce-*} headers,
 * the data as the body). One event answers {@code 201 {"id","seq","partition","duplicate":false}}, a
 * duplicate {@code 200} with the original seq; a batch {@code 201 {"results":[…]}}, all or nothing.
 */
@RestController
@RequestMapping("/internal/v1/tenants/{tenant}/topics/{topic}")
class PublishController {

    private static final MediaType CLOUDEVENT = MediaType.parseMediaType(Headers.CLOUDEVENTS_JSON);
    private static final MediaType BATCH = MediaType.parseMediaType(Headers.CLOUDEVENTS_BATCH_JSON);

    private static final TypeReference<Event> EVENT_TYPE = new TypeReference<>() {
    };
    private static final TypeReference<List<Event>> BATCH_TYPE = new TypeReference<>() {
    };

    private final PublishService publisher;
    private final JsonMapper json;

    PublishController(PublishService publisher, JsonMapper json) {
        this.publisher = publisher;
        this.json = json;
    }

    private static final java.util.regex.Pattern TRACEPARENT = java.util.regex.Pattern.compile("00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");

    @PostMapping("/events")
    Mono<ResponseEntity<byte[]>> publish(@PathVariable String tenant, @PathVariable String topic,
                                         @RequestHeader HttpHeaders headers,
                                         @RequestBody(required = false) byte[] body) {
        return Mono.defer(() -> {
            byte[] bytes = body == null ? new byte[0] : body;
            MediaType type = headers.getContentType();
            String trace = traceparent(headers);
            if (headers.containsHeader("ce-specversion") || headers.containsHeader("ce-type")) {
                return single(tenant, topic, binary(headers, type, bytes), trace);
            }
            StrictUtf8.require(bytes);
            if (type == null) {
                throw SwitchboardException.invalid("Content-Type is required: application/cloudevents+json, "
                        + "application/cloudevents-batch+json, application/json, or binary mode with ce-* headers.");
            }
            if (BATCH.equalsTypeAndSubtype(type)) {
                return batch(tenant, topic, read(bytes, BATCH_TYPE, "The body must be a JSON array of CloudEvents"), trace);
            }
            boolean plainJson = MediaType.APPLICATION_JSON.equalsTypeAndSubtype(type);
            if (CLOUDEVENT.equalsTypeAndSubtype(type) || plainJson) {
                if (plainJson && firstToken(bytes) == '[') {
                    return batch(tenant, topic, read(bytes, BATCH_TYPE, "The body must be a JSON array of CloudEvents"), trace);
                }
                return single(tenant, topic, read(bytes, EVENT_TYPE, "The body must be one CloudEvent (a JSON object)"), trace);
            }
            throw SwitchboardException.invalid("Unsupported Content-Type " + type + ": use application/cloudevents+json, "
                    + "application/cloudevents-batch+json, application/json, or binary mode with ce-* headers.");
        });
    }

    /**
     * The W3C trace context of this request (the gateway's call, when tracing is on), or null. An
     * event that arrives without a {@code traceparent} of its own carries this one, so its trace
     * continues from the publish that stored it to every later read and delivery of it.
     */
    private static String traceparent(HttpHeaders headers) {
        String value = headers.getFirst("traceparent");
        return value != null && TRACEPARENT.matcher(value).matches() && !value.startsWith("00-00000000000000000000000000000000")
                ? value : null;
    }

    private Mono<ResponseEntity<byte[]>> single(String tenant, String topic, Event event, String trace) {
        return publisher.publish(tenant, topic, List.of(event), false, trace).map(results -> {
            PublishResult r = results.get(0);
            ByteArrayOutputStream out = new ByteArrayOutputStream(96);
            try (JsonGenerator g = json.createGenerator(out)) {
                write(g, r);
            }
            return ResponseEntity.status(r.duplicate() ? HttpStatus.OK : HttpStatus.CREATED)
                    .contentType(MediaType.APPLICATION_JSON)
                    .body(out.toByteArray());
        });
    }

    private Mono<ResponseEntity<byte[]>> batch(String tenant, String topic, List<Event> events, String trace) {
        int missing = events.indexOf(null);
        if (missing >= 0) {
            throw SwitchboardException.invalid("events[" + missing + "] is null: every member of a batch is a CloudEvent (a JSON object).");
        }
        return publisher.publish(tenant, topic, events, true, trace).map(results -> {
            // One generator for the whole answer: a batch's results were a databind call each.
            ByteArrayOutputStream out = new ByteArrayOutputStream(32 + 96 * results.size());
            try (JsonGenerator g = json.createGenerator(out)) {
                g.writeStartObject();
                g.writeName("results");
                g.writeStartArray();
                for (PublishResult r : results) {
                    write(g, r);
                }
                g.writeEndArray();
                g.writeEndObject();
            }
            return ResponseEntity.status(HttpStatus.CREATED).contentType(MediaType.APPLICATION_JSON).body(out.toByteArray());
        });
    }

    /** {@link PublishResult} as its record serializes: id, seq, partition, duplicate. */
    private static void write(JsonGenerator g, PublishResult r) {
        g.writeStartObject();
        g.writeStringProperty("id", r.id());
        g.writeNumberProperty("seq", r.seq());
        g.writeNumberProperty("partition", r.partition());
        g.writeBooleanProperty("duplicate", r.duplicate());
        g.writeEndObject();
    }

    private <T> T read(byte[] bytes, TypeReference<T> type, String expectation) {
        if (bytes.length == 0) {
            throw SwitchboardException.invalid("The body is empty.");
        }
        try {
            T value = json.readValue(bytes, type);
            if (value == null) {
                throw SwitchboardException.invalid(expectation + ".");
            }
            return value;
        } catch (StreamReadException e) {
            throw SwitchboardException.invalid("The body is not valid JSON.");
        } catch (DatabindException e) {
            throw SwitchboardException.invalid(expectation + "; the value at " + where(e) + " is not valid.");
        } catch (JacksonException e) {
            throw SwitchboardException.invalid(expectation + ".");
        }
    }

    /** A JSON path such as {@code events[2].ttl}, from Jackson's location, without its internal wording. */
    private static String where(DatabindException e) {
        StringBuilder sb = new StringBuilder();
        for (JacksonException.Reference ref : e.getPath()) {
            if (ref.getIndex() >= 0) {
                sb.append(sb.isEmpty() ? "events" : "").append('[').append(ref.getIndex()).append(']');
            } else if (ref.getPropertyName() != null) {
                sb.append(sb.isEmpty() ? "" : ".").append(ref.getPropertyName());
            }
        }
        return sb.isEmpty() ? "the top level" : sb.toString();
    }

    private static int firstToken(byte[] bytes) {
        for (byte b : bytes) {
            if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
                return b;
            }
        }
        return -1;
    }

    /** CloudEvents HTTP binary mode: attributes in {@code ce-*} headers (percent-encoded), the data as the body. */
    private static Event binary(HttpHeaders headers, MediaType type, byte[] body) {
        Map<String, String> single = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> header : headers.headerSet()) {
            if (header.getValue().size() > 1 && header.getKey().toLowerCase(Locale.ROOT).startsWith(BinaryMode.PREFIX)) {
                throw SwitchboardException.invalid("Header " + header.getKey() + " is sent more than once.");
            }
            single.put(header.getKey(), header.getValue().get(0));
        }
        Event.Builder event;
        try {
            event = BinaryMode.read(single);
        } catch (IllegalArgumentException e) {
            throw SwitchboardException.invalid(e.getMessage());
        }
        if (type != null) {
            event.dataContentType(type.toString());
        }
        if (body.length > 0) {
            if (type != null && (MediaType.APPLICATION_JSON.equalsTypeAndSubtype(type) || type.getSubtype().endsWith("+json"))) {
                StrictUtf8.require(body);
                try {
                    event.data(RawJson.parse(body));
                } catch (IllegalArgumentException e) {
                    throw SwitchboardException.invalid("The body is not valid JSON, as its Content-Type says it is.");
                }
            } else if (type != null && type.getType().equals("text")) {
                event.data(RawJson.ofString(new String(body, type.getCharset() == null ? StandardCharsets.UTF_8 : type.getCharset())));
            } else {
                event.dataBase64(Base64.getEncoder().encodeToString(body));
            }
        }
        return event.build();
    }
}
