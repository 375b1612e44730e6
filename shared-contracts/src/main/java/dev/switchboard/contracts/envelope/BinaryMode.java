package dev.switchboard.contracts.envelope;

import dev.switchboard.contracts.errors.Headers;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * CloudEvents HTTP binding, binary mode: each context attribute travels as a {@code ce-<name>}
 * header (names case-insensitive), {@code datacontenttype} as {@code Content-Type}, and the data
 * as the body, which this class does not touch.
 *
 * <p>Header values other than {@code Content-Type} are percent-encoded as the binding requires:
 * space, {@code "}, {@code %} and everything outside printable ASCII become {@code %XX} of their
 * UTF-8 bytes (upper-case hex). Decoding first removes RFC 7230 quoting, then percent-decodes,
 * and rejects malformed escapes and bytes that are not UTF-8.
 *
 * <p>Binary mode carries no JSON types: an unknown {@code ce-*} header becomes a string extension
 * attribute, while the typed attributes ({@code seq}, {@code partition}, {@code ttl},
 * {@code schemaversion}, {@code time}, {@code expiresat}) are parsed.
 */
public final class BinaryMode {
    /** The header that carries {@code datacontenttype}. */
    public static final String CONTENT_TYPE = "Content-Type";
    /** Prefix of every other attribute header. */
    public static final String PREFIX = Headers.CE_PREFIX;

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private BinaryMode() {
    }

    /**
     * The attribute a header carries: {@code ce-id} → {@code id}, {@code CE-PartitionKey} →
     * {@code partitionkey}, {@code content-type} → {@code datacontenttype}; empty for any other
     * header. The name is not checked for legality here ({@link EventRules} does).
     */
    public static Optional<String> attributeOf(String headerName) {
        String lower = headerName.toLowerCase(Locale.ROOT);
        if (lower.equals("content-type")) {
            return Optional.of("datacontenttype");
        }
        if (lower.startsWith(PREFIX) && lower.length() > PREFIX.length()) {
            return Optional.of(lower.substring(PREFIX.length()));
        }
        return Optional.empty();
    }

    /**
     * The header that carries an attribute: {@code id} → {@code ce-id}, {@code datacontenttype}
     * → {@code Content-Type}.
     *
     * @throws IllegalArgumentException for {@code data} and {@code data_base64}, which are the body
     */
    public static String headerOf(String attribute) {
        if (attribute.equals("data") || attribute.equals("data_base64")) {
            throw new IllegalArgumentException(attribute + " travels in the body, not in a header");
        }
        return attribute.equals("datacontenttype") ? CONTENT_TYPE : PREFIX + attribute;
    }

    /** Percent-encodes a string attribute value for a {@code ce-*} header. */
    public static String encode(String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder(bytes.length);
        for (byte b : bytes) {
            int c = b & 0xff;
            if (c >= 0x21 && c <= 0x7e && c != '"' && c != '%') {
                out.append((char) c);
            } else {
                out.append('%').append(HEX[c >> 4]).append(HEX[c & 0xf]);
            }
        }
        return out.toString();
    }

    /**
     * Decodes a {@code ce-*} header value: trims surrounding whitespace, unquotes an RFC 7230
     * quoted-string, then percent-decodes.
     *
     * @throws IllegalArgumentException for a malformed {@code %} escape or bytes that are not UTF-8
     */
    public static String decode(String headerValue) {
        String value = unquote(headerValue.strip());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '%') {
                int hi = i + 2 < value.length() ? Character.digit(value.charAt(i + 1), 16) : -1;
                int lo = hi >= 0 ? Character.digit(value.charAt(i + 2), 16) : -1;
                if (lo < 0) {
                    throw new IllegalArgumentException("malformed percent-encoding in header value");
                }
                bytes.write(hi << 4 | lo);
                i += 2;
            } else {
                int codePoint = value.codePointAt(i);
                byte[] utf8 = Character.toString(codePoint).getBytes(StandardCharsets.UTF_8);
                bytes.write(utf8, 0, utf8.length);
                i += Character.charCount(codePoint) - 1;
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes.toByteArray()))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("percent-encoded header value is not UTF-8", e);
        }
    }

    /**
     * An event builder holding the attributes of the binary-mode headers among {@code headers}
     * (other headers are ignored); the caller adds the body as {@code data} or {@code data_base64}.
     *
     * @throws IllegalArgumentException naming the header, for a value that cannot be decoded or
     *                                  is not of its attribute's type, an attribute sent twice
     *                                  (header names differing only in case), or {@code ce-data}
     */
    public static Event.Builder read(Map<String, String> headers) {
        Event.Builder builder = Event.builder();
        Map<String, String> seen = new LinkedHashMap<>();
        headers.forEach((header, raw) -> {
            Optional<String> attribute = attributeOf(header);
            if (attribute.isEmpty() || raw == null) {
                return;
            }
            String name = attribute.get();
            if (seen.putIfAbsent(name, header) != null) {
                throw new IllegalArgumentException("attribute " + name + " is sent twice");
            }
            if (name.equals("data") || name.equals("data_base64")) {
                throw new IllegalArgumentException(header + ": the data travels in the body");
            }
            if (name.equals("datacontenttype")) {
                builder.dataContentType(raw.strip());
                return;
            }
            String value;
            try {
                value = decode(raw);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(header + ": " + e.getMessage(), e);
            }
            set(builder, header, name, value);
        });
        return builder;
    }

    /**
     * The binary-mode headers of every attribute {@code event} has, {@code data} and
     * {@code data_base64} excepted, values encoded; in {@link Event#CONTEXT_ATTRIBUTES} order,
     * then extensions by name.
     */
    public static Map<String, String> write(Event event) {
        Map<String, String> headers = new LinkedHashMap<>();
        put(headers, "specversion", event.specVersion());
        put(headers, "id", event.id());
        put(headers, "source", event.source());
        put(headers, "type", event.type());
        put(headers, "time", event.time());
        if (event.dataContentType() != null) {
            headers.put(CONTENT_TYPE, event.dataContentType());
        }
        put(headers, "dataschema", event.dataSchema());
        put(headers, "subject", event.subject());
        put(headers, "tenant", event.tenant());
        put(headers, "topic", event.topic());
        put(headers, "partition", event.partition());
        put(headers, "seq", event.seq());
        put(headers, "partitionkey", event.partitionKey());
        put(headers, "causationid", event.causationId());
        put(headers, "correlationid", event.correlationId());
        put(headers, "ttl", event.ttl());
        put(headers, "expiresat", event.expiresAt());
        put(headers, "schemaversion", event.schemaVersion());
        put(headers, "traceparent", event.traceparent());
        put(headers, "tracestate", event.tracestate());
        event.extensions().forEach((name, value) -> put(headers, name, value));
        return headers;
    }

    private static void put(Map<String, String> headers, String attribute, Object value) {
        if (value != null) {
            String text = value instanceof Instant instant ? DateTimeFormatter.ISO_INSTANT.format(instant)
                    : value.toString();
            headers.put(PREFIX + attribute, encode(text));
        }
    }

    private static void set(Event.Builder builder, String header, String name, String value) {
        try {
            switch (name) {
                case "specversion" -> builder.specVersion(value);
                case "id" -> builder.id(value);
                case "source" -> builder.source(value);
                case "type" -> builder.type(value);
                case "time" -> builder.time(timestamp(value));
                case "dataschema" -> builder.dataSchema(value);
                case "subject" -> builder.subject(value);
                case "tenant" -> builder.tenant(value);
                case "topic" -> builder.topic(value);
                case "seq" -> builder.seq(Long.parseLong(value));
                case "partition" -> builder.partition(Integer.parseInt(value));
                case "partitionkey" -> builder.partitionKey(value);
                case "causationid" -> builder.causationId(value);
                case "correlationid" -> builder.correlationId(value);
                case "ttl" -> builder.ttl(Integer.parseInt(value));
                case "expiresat" -> builder.expiresAt(timestamp(value));
                case "schemaversion" -> builder.schemaVersion(Integer.parseInt(value));
                case "traceparent" -> builder.traceparent(value);
                case "tracestate" -> builder.tracestate(value);
                default -> builder.extension(name, value);
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(header + " must be an integer", e);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(header + " must be an RFC 3339 timestamp", e);
        }
    }

    private static Instant timestamp(String value) {
        return OffsetDateTime.parse(value, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
    }

    /** RFC 7230 section 3.2.6: a quoted-string loses its quotes and its backslash escapes. */
    private static String unquote(String value) {
        if (value.length() < 2 || value.charAt(0) != '"' || value.charAt(value.length() - 1) != '"') {
            return value;
        }
        StringBuilder out = new StringBuilder(value.length() - 2);
        for (int i = 1; i < value.length() - 1; i++) {
            char c = value.charAt(i);
            if (c == '\\' && i + 1 < value.length() - 1) {
                c = value.charAt(++i);
            }
            out.append(c);
        }
        return out.toString();
    }
}
