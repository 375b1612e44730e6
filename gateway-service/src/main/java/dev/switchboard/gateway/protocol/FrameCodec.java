package dev.switchboard.gateway.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.switchboard.contracts.envelope.RawJson;
import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.frames.ClientFrame;
import dev.switchboard.contracts.frames.ServerFrame;
import org.springframework.stereotype.Component;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.util.Map;
import java.util.TreeMap;

/**
 * Text frames ↔ {@link ClientFrame} / {@link ServerFrame}. Decoding never throws anything but
 * {@link FrameException} (code {@code invalid_request}, with the frame's id when it could be read),
 * so a malformed frame costs the client one {@code error} frame, not its connection. An
 * {@code event} frame is built by concatenation around the envelope text delivery sent: the
 * envelope is passed through byte for byte and encoded once per event however many sockets get it
 * (topic names need no escaping: they are {@code [a-z0-9_.-]}).
 */
@Component
public final class FrameCodec {

    private final JsonMapper json;

    public FrameCodec(JsonMapper json) {
        this.json = json;
    }

    /** The frame as the client sent it; fields of other ops are ignored, unknown fields too. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Wire(String op, JsonNode id, String token, String topic, JsonNode after, RawJson event) {
    }

    public ClientFrame decode(String text) {
        Wire wire;
        try {
            JsonNode tree = json.readTree(text);
            if (tree == null || !tree.isObject()) {
                throw new FrameException(null, ErrorCode.INVALID_REQUEST, "A frame is a JSON object with an \"op\".");
            }
            // Read the id first, so that any later failure can still be answered to it.
            Long id = id(tree.get("id"));
            try {
                wire = json.readValue(text, Wire.class);
            } catch (JacksonException e) {
                throw new FrameException(id, ErrorCode.INVALID_REQUEST, "Malformed frame: a field has the wrong type.");
            }
            return frame(id, wire);
        } catch (JacksonException e) {
            throw new FrameException(null, ErrorCode.INVALID_REQUEST, "Malformed frame: not valid JSON.");
        }
    }

    private static ClientFrame frame(Long id, Wire wire) {
        if (wire.op() == null) {
            throw new FrameException(id, ErrorCode.INVALID_REQUEST, "A frame needs an \"op\".");
        }
        switch (wire.op()) {
            case "connect":
                return new ClientFrame.Connect(id, require(id, wire.token(), "token"));
            case "subscribe":
                return new ClientFrame.Subscribe(id, require(id, wire.topic(), "topic"), after(id, wire.after()));
            case "unsubscribe":
                return new ClientFrame.Unsubscribe(id, require(id, wire.topic(), "topic"));
            case "publish":
                if (wire.event() == null || !wire.event().json().startsWith("{")) {
                    throw new FrameException(id, ErrorCode.INVALID_REQUEST, "\"event\" must be a JSON object.");
                }
                return new ClientFrame.Publish(id, require(id, wire.topic(), "topic"), wire.event());
            case "ping":
                return new ClientFrame.Ping(id);
            default:
                throw new FrameException(id, ErrorCode.INVALID_REQUEST, "Unknown op \"" + abbreviate(wire.op()) + "\".");
        }
    }

    private static Long id(JsonNode id) {
        if (id == null || id.isNull()) {
            return null;
        }
        if (!id.isIntegralNumber() || !id.canConvertToLong()) {
            throw new FrameException(null, ErrorCode.INVALID_REQUEST, "\"id\" must be an integer.");
        }
        return id.longValue();
    }

    private static String require(Long id, String value, String field) {
        if (value == null || value.isEmpty()) {
            throw new FrameException(id, ErrorCode.INVALID_REQUEST, "\"" + field + "\" is required.");
        }
        return value;
    }

    /** {@code 41} → {@code "41"}; {@code {"0":41,"1":7}} → {@code "0:41,1:7"}; absent or null → null. */
    private static String after(Long id, JsonNode after) {
        if (after == null || after.isNull() || after.isMissingNode()) {
            return null;
        }
        if (after.isIntegralNumber() && after.canConvertToLong() && after.longValue() >= 0) {
            return Long.toString(after.longValue());
        }
        if (after.isObject() && !after.isEmpty()) {
            StringBuilder sb = new StringBuilder();
            for (Map.Entry<String, JsonNode> e : after.properties()) {
                JsonNode seq = e.getValue();
                if (!e.getKey().matches("[0-9]{1,9}") || !seq.isIntegralNumber() || !seq.canConvertToLong() || seq.longValue() < 0) {
                    throw new FrameException(id, ErrorCode.INVALID_REQUEST, "\"after\" is a seq or an object {\"<partition>\": seq}.");
                }
                if (!sb.isEmpty()) {
                    sb.append(',');
                }
                sb.append(e.getKey()).append(':').append(seq.longValue());
            }
            return sb.toString();
        }
        throw new FrameException(id, ErrorCode.INVALID_REQUEST, "\"after\" is a seq >= 0 or an object {\"<partition>\": seq}.");
    }

    /** The frame's JSON text. */
    public String encode(ServerFrame frame) {
        if (frame instanceof ServerFrame.Event e) {
            return event(e.topic(), e.envelope());
        }
        ObjectNode node = json.createObjectNode();
        if (frame instanceof ServerFrame.Connected c) {
            node.put("op", "connected");
            id(node, c.id());
            node.put("session", c.session()).put("pingInterval", c.pingInterval());
        } else if (frame instanceof ServerFrame.Subscribed s) {
            node.put("op", "subscribed");
            id(node, s.id());
            node.put("topic", s.topic());
            node.set("head", position(s.head()));
        } else if (frame instanceof ServerFrame.Unsubscribed u) {
            node.put("op", "unsubscribed");
            id(node, u.id());
            node.put("topic", u.topic());
        } else if (frame instanceof ServerFrame.Published p) {
            node.put("op", "published");
            id(node, p.id());
            node.put("topic", p.topic()).put("eventId", p.eventId()).put("seq", p.seq()).put("partition", p.partition())
                    .put("duplicate", p.duplicate());
        } else if (frame instanceof ServerFrame.Pong p) {
            node.put("op", "pong");
            id(node, p.id());
        } else if (frame instanceof ServerFrame.Error e) {
            node.put("op", "error");
            id(node, e.id());
            node.put("code", e.code().code()).put("message", e.message());
            if (e.topic() != null) {
                node.put("topic", e.topic());
            }
        } else if (frame instanceof ServerFrame.SlowDown s) {
            node.put("op", "slow_down").put("topic", s.topic()).put("retryAfterMs", s.retryAfterMs());
        } else if (frame instanceof ServerFrame.Reconnect r) {
            node.put("op", "reconnect").put("reason", r.reason().wire()).put("delayMs", r.delayMs());
            ObjectNode resume = node.putObject("resume");
            new TreeMap<>(r.resume()).forEach((topic, positions) -> resume.set(topic, position(positions)));
        }
        return json.writeValueAsString(node);
    }

    /** An {@code event} frame around an envelope as delivery sent it. */
    public static String event(String topic, String envelope) {
        return "{\"op\":\"event\",\"topic\":\"" + topic + "\",\"event\":" + envelope + "}";
    }

    private static void id(ObjectNode node, Long id) {
        if (id != null) {
            node.put("id", id);
        }
    }

    /** Partition 0 alone → a plain seq, else {@code {"<partition>": seq}}. */
    private JsonNode position(Map<Integer, Long> positions) {
        if (positions.size() == 1 && positions.containsKey(0)) {
            return json.getNodeFactory().numberNode(positions.get(0));
        }
        ObjectNode node = json.createObjectNode();
        new TreeMap<>(positions).forEach((p, seq) -> node.put(Integer.toString(p), seq));
        return node;
    }

    private static String abbreviate(String s) {
        return s.length() > 32 ? s.substring(0, 32) + "…" : s;
    }
}
