package dev.switchboard.delivery.durable;

import dev.switchboard.delivery.web.StrictUtf8;
import dev.switchboard.platform.problem.SwitchboardException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * How a stream's bytes become log rows and back. JSON mode ({@code application/json}): each message
 * is one row holding its JSON text, a body that is an array is one message per element (one level
 * flattened), and a read is a JSON array of the messages. Every other type: each append is one row
 * holding its bytes exactly (base64, the log's rows being text), and a read is their concatenation.
 */
final class StreamContent {

    static final String DEFAULT_TYPE = "application/octet-stream";
    private static final String JSON = "application/json";

    private StreamContent() {
    }

    /** The media type without parameters, lower case: what two content types are compared on. */
    static String essence(String contentType) {
        int semicolon = contentType.indexOf(';');
        return (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim().toLowerCase(Locale.ROOT);
    }

    static boolean isJson(String contentType) {
        return essence(contentType).equals(JSON);
    }

    /** Whether SSE may carry it as text ({@code text/*}, JSON); anything else is sent base64. */
    static boolean isText(String contentType) {
        String e = essence(contentType);
        return e.startsWith("text/") || e.equals(JSON);
    }

    /** A syntactically valid {@code type/subtype} (parameters allowed). */
    static boolean isValidType(String contentType) {
        String e = essence(contentType);
        int slash = e.indexOf('/');
        return slash > 0 && slash < e.length() - 1 && e.indexOf('/', slash + 1) < 0 && e.chars().allMatch(StreamContent::tokenChar);
    }

    private static boolean tokenChar(int c) {
        return c == '/' || c > 32 && c < 127 && "()<>@,;:\\\"[]?={}".indexOf(c) < 0;
    }

    /**
     * The rows a body appends.
     *
     * @param emptyArrayAllowed a create's initial body may be {@code []} (no messages); an append's may not
     */
    static List<String> messages(JsonMapper json, boolean jsonMode, byte[] body, boolean emptyArrayAllowed) {
        if (!jsonMode) {
            return body.length == 0 ? List.of() : List.of(Base64.getEncoder().encodeToString(body));
        }
        if (body.length == 0) {
            return List.of();
        }
        StrictUtf8.require(body);
        JsonNode node;
        try {
            node = json.readTree(body);
        } catch (JacksonException e) {
            throw SwitchboardException.invalid("The body is not valid JSON.");
        }
        if (node == null || node.isMissingNode()) {
            throw SwitchboardException.invalid("The body is not valid JSON.");
        }
        if (!node.isArray()) {
            return List.of(json.writeValueAsString(node));
        }
        if (node.isEmpty() && !emptyArrayAllowed) {
            throw SwitchboardException.invalid("An empty JSON array appends nothing.");
        }
        List<String> out = new ArrayList<>(node.size());
        for (JsonNode element : node) {
            out.add(json.writeValueAsString(element));
        }
        return out;
    }

    /** The body of a read: the rows' messages as the stream's type has them. */
    static byte[] body(boolean jsonMode, List<String> rows) {
        if (jsonMode) {
            StringBuilder sb = new StringBuilder(2 + rows.stream().mapToInt(String::length).sum() + rows.size());
            sb.append('[');
            for (int i = 0; i < rows.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                sb.append(rows.get(i));
            }
            return sb.append(']').toString().getBytes(StandardCharsets.UTF_8);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Base64.Decoder decoder = Base64.getDecoder();
        for (String row : rows) {
            out.writeBytes(decoder.decode(row));
        }
        return out.toByteArray();
    }
}
