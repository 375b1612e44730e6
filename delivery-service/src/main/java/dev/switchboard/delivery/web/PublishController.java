package dev.switchboard.delivery.web;

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
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
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

    private final PublishService publisher;
    private final JsonMapper json;

    PublishController(PublishService publisher, JsonMapper json) {
        this.publisher = publisher;
        this.json = json;
    }

    @PostMapping("/events")
    Mono<ResponseEntity<String>> publish(@PathVariable String tenant, @PathVariable String topic,
                                         @RequestHeader HttpHeaders headers,
                                         @RequestBody(required = false) byte[] body) {
        return Mono.defer(() -> {
            byte[] bytes = body == null ? new byte[0] : body;
            MediaType type = headers.getContentType();
            if (headers.containsHeader("ce-specversion") || headers.containsHeader("ce-type")) {
                return single(tenant, topic, binary(headers, type, bytes));
            }
            if (type == null) {
                throw SwitchboardException.invalid("Content-Type is required: application/cloudevents+json, "
                        + "application/cloudevents-batch+json, application/json, or binary mode with ce-* headers.");
            }
            if (BATCH.equalsTypeAndSubtype(type)) {
                return batch(tenant, topic, parseArray(bytes));
            }
            if (CLOUDEVENT.equalsTypeAndSubtype(type) || MediaType.APPLICATION_JSON.equalsTypeAndSubtype(type)) {
                JsonNode node = parse(bytes);
                if (node.isArray() && MediaType.APPLICATION_JSON.equalsTypeAndSubtype(type)) {
                    return batch(tenant, topic, parseArray(bytes));
                }
                if (!node.isObject()) {
                    throw SwitchboardException.invalid("The body must be one CloudEvent (a JSON object).");
                }
                return single(tenant, topic, (ObjectNode) node);
            }
            throw SwitchboardException.invalid("Unsupported Content-Type " + type + ": use application/cloudevents+json, "
                    + "application/cloudevents-batch+json, application/json, or binary mode with ce-* headers.");
        });
    }

    private Mono<ResponseEntity<String>> single(String tenant, String topic, ObjectNode event) {
        return publisher.publish(tenant, topic, List.of(event), false).map(results -> {
            PublishResult r = results.get(0);
            return ResponseEntity.status(r.duplicate() ? HttpStatus.OK : HttpStatus.CREATED)
                    .contentType(MediaType.APPLICATION_JSON)
                    .body(resultJson(r));
        });
    }

    private Mono<ResponseEntity<String>> batch(String tenant, String topic, List<ObjectNode> events) {
        return publisher.publish(tenant, topic, events, true).map(results -> {
            StringBuilder sb = new StringBuilder("{\"results\":[");
            for (int i = 0; i < results.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                sb.append(resultJson(results.get(i)));
            }
            return ResponseEntity.status(HttpStatus.CREATED).contentType(MediaType.APPLICATION_JSON).body(sb.append("]}").toString());
        });
    }

    private String resultJson(PublishResult r) {
        return json.writeValueAsString(Map.of("id", r.id(), "seq", r.seq(), "partition", r.partition(), "duplicate", r.duplicate()));
    }

    private JsonNode parse(byte[] bytes) {
        if (bytes.length == 0) {
            throw SwitchboardException.invalid("The body is empty.");
        }
        try {
            return json.readTree(bytes);
        } catch (JacksonException e) {
            throw SwitchboardException.invalid("The body is not valid JSON.");
        }
    }

    private List<ObjectNode> parseArray(byte[] bytes) {
        JsonNode node = parse(bytes);
        if (!node.isArray()) {
            throw SwitchboardException.invalid("A batch is a JSON array of CloudEvents.");
        }
        List<ObjectNode> events = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            if (!node.get(i).isObject()) {
                throw SwitchboardException.invalid("events[" + i + "] is not a JSON object.");
            }
            events.add((ObjectNode) node.get(i));
        }
        return events;
    }

    /** CloudEvents HTTP binary mode: attributes in {@code ce-*} headers (percent-encoded), the data as the body. */
    private ObjectNode binary(HttpHeaders headers, MediaType type, byte[] body) {
        ObjectNode event = json.createObjectNode();
        for (Map.Entry<String, List<String>> header : headers.headerSet()) {
            String name = header.getKey().toLowerCase(Locale.ROOT);
            if (name.startsWith(Headers.CE_PREFIX) && name.length() > Headers.CE_PREFIX.length()) {
                String attribute = name.substring(Headers.CE_PREFIX.length());
                String value = URLDecoder.decode(header.getValue().get(0).replace("+", "%2B"), StandardCharsets.UTF_8);
                if (attribute.equals("ttl") || attribute.equals("schemaversion")) {
                    try {
                        event.put(attribute, Long.parseLong(value));
                    } catch (NumberFormatException e) {
                        throw SwitchboardException.invalid("ce-" + attribute + " must be an integer.");
                    }
                } else {
                    event.put(attribute, value);
                }
            }
        }
        if (type != null) {
            event.put("datacontenttype", type.toString());
        }
        if (body.length > 0) {
            if (type != null && (MediaType.APPLICATION_JSON.equalsTypeAndSubtype(type) || type.getSubtype().endsWith("+json"))) {
                event.set("data", parse(body));
            } else if (type != null && type.getType().equals("text")) {
                event.put("data", new String(body, type.getCharset() == null ? StandardCharsets.UTF_8 : type.getCharset()));
            } else {
                event.put("data_base64", Base64.getEncoder().encodeToString(body));
            }
        }
        return event;
    }
}
