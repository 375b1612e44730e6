package dev.switchboard.contracts.envelope;

import java.math.BigInteger;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a producer may send: {@link #producerViolations(Event)} lists every rule an incoming event
 * breaks, as messages fit for a {@code 400 invalid_request} detail.
 *
 * <p>Server-owned attributes: a producer that sends {@code tenant}, {@code topic}, {@code seq},
 * {@code partition} or {@code expiresat} is rejected, never silently corrected, so that a
 * mismatch (say, a {@code topic} other than the URL's) cannot go unnoticed. {@code time} is the
 * exception: {@code PROTOCOL.md} makes it the server's accept time, so a producer's {@code time}
 * is accepted and overwritten. Whether {@code schemaversion} lies in the topic's accepted range
 * depends on the topic and is checked by delivery, not here.
 */
public final class EventRules {
    public static final int MAX_ID_LENGTH = 128;
    public static final int MAX_TYPE_LENGTH = 256;
    public static final int MAX_SOURCE_LENGTH = 512;
    public static final int MAX_DATASCHEMA_LENGTH = 512;
    public static final int MAX_SUBJECT_LENGTH = 512;
    /** Ten years of 365 days. */
    public static final int MAX_TTL_SECONDS = 10 * 365 * 24 * 3600;
    public static final int MAX_PARTITION_KEY_LENGTH = 256;
    /** Longest {@code causationid} or {@code correlationid}. */
    public static final int MAX_REFERENCE_ID_LENGTH = 128;
    public static final int MAX_TRACESTATE_LENGTH = 512;
    /** CloudEvents: extension names SHOULD NOT exceed 20 characters; we make it a MUST. */
    public static final int MAX_EXTENSION_NAME_LENGTH = 20;
    /** Attributes only the server sets; a producer sending one is rejected. */
    public static final List<String> SERVER_OWNED = List.of("tenant", "topic", "seq", "partition", "expiresat");

    private static final Pattern EXTENSION_NAME = Pattern.compile("[a-z0-9]{1," + MAX_EXTENSION_NAME_LENGTH + "}");
    private static final Pattern TRACEPARENT = Pattern.compile("00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}");
    private static final Pattern MEDIA_TYPE = Pattern.compile(
            "[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(\\s*;.*)?");
    private static final int MAX_ECHOED_NAME = 40;

    private EventRules() {
    }

    /** Every rule {@code event}, as sent by a producer, breaks; empty when it may be accepted. */
    public static List<String> producerViolations(Event event) {
        List<String> violations = new ArrayList<>();
        if (event.specVersion() != null && !Event.SPEC_VERSION.equals(event.specVersion())) {
            violations.add("specversion must be \"1.0\"");
        }
        if (event.id() != null && !isPrintableWithoutSpace(event.id(), MAX_ID_LENGTH)) {
            violations.add("id must be 1 to " + MAX_ID_LENGTH + " printable ASCII characters without spaces");
        }
        if (event.source() != null && !isUriReference(event.source(), MAX_SOURCE_LENGTH)) {
            violations.add("source must be a non-empty URI-reference of at most " + MAX_SOURCE_LENGTH + " characters");
        }
        if (event.type() == null) {
            violations.add("type is required");
        } else if (event.type().isEmpty() || event.type().length() > MAX_TYPE_LENGTH) {
            violations.add("type must be 1 to " + MAX_TYPE_LENGTH + " characters");
        }
        if (event.dataContentType() != null && !MEDIA_TYPE.matcher(event.dataContentType()).matches()) {
            violations.add("datacontenttype must be a media type such as application/json");
        }
        if (event.dataSchema() != null && !isAbsoluteUri(event.dataSchema())) {
            violations.add("dataschema must be an absolute URI of at most " + MAX_DATASCHEMA_LENGTH + " characters");
        }
        if (event.subject() != null && (event.subject().isEmpty() || event.subject().length() > MAX_SUBJECT_LENGTH)) {
            violations.add("subject must be 1 to " + MAX_SUBJECT_LENGTH + " characters");
        }
        serverOwned(event, violations);
        if (event.partitionKey() != null && !hasLength(event.partitionKey(), MAX_PARTITION_KEY_LENGTH)) {
            violations.add("partitionkey must be 1 to " + MAX_PARTITION_KEY_LENGTH + " characters");
        }
        if (event.causationId() != null && !hasLength(event.causationId(), MAX_REFERENCE_ID_LENGTH)) {
            violations.add("causationid must be 1 to " + MAX_REFERENCE_ID_LENGTH + " characters");
        }
        if (event.correlationId() != null && !hasLength(event.correlationId(), MAX_REFERENCE_ID_LENGTH)) {
            violations.add("correlationid must be 1 to " + MAX_REFERENCE_ID_LENGTH + " characters");
        }
        if (event.ttl() != null && (event.ttl() < 0 || event.ttl() > MAX_TTL_SECONDS)) {
            violations.add("ttl must be 0 to " + MAX_TTL_SECONDS + " seconds (10 years), got " + event.ttl());
        }
        if (event.schemaVersion() != null && event.schemaVersion() < 1) {
            violations.add("schemaversion must be at least 1, got " + event.schemaVersion());
        }
        if (event.traceparent() != null && !isValidTraceparent(event.traceparent())) {
            violations.add("traceparent must be a W3C traceparent: 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>,"
                    + " lowercase, ids not all zero");
        }
        if (event.tracestate() != null && event.tracestate().length() > MAX_TRACESTATE_LENGTH) {
            violations.add("tracestate must be at most " + MAX_TRACESTATE_LENGTH + " characters");
        }
        extensions(event.extensions(), violations);
        if (event.data() != null && event.dataBase64() != null) {
            violations.add("data and data_base64 must not both be present");
        }
        if (event.dataBase64() != null && !isBase64(event.dataBase64())) {
            violations.add("data_base64 must be base64 (RFC 4648)");
        }
        return List.copyOf(violations);
    }

    /** A legal CloudEvents attribute name for an extension: 1 to 20 of {@code a-z0-9}. */
    public static boolean isValidExtensionName(String name) {
        return name != null && EXTENSION_NAME.matcher(name).matches();
    }

    /** Version {@code 00} of the W3C trace context {@code traceparent}. */
    public static boolean isValidTraceparent(String traceparent) {
        if (traceparent == null) {
            return false;
        }
        Matcher m = TRACEPARENT.matcher(traceparent);
        return m.matches() && !isAllZero(m.group(1)) && !isAllZero(m.group(2));
    }

    private static void serverOwned(Event event, List<String> violations) {
        Object[] values = {event.tenant(), event.topic(), event.seq(), event.partition(), event.expiresAt()};
        for (int i = 0; i < values.length; i++) {
            if (values[i] != null) {
                violations.add(SERVER_OWNED.get(i) + " is set by the server and must not be sent");
            }
        }
    }

    private static void extensions(Map<String, Object> extensions, List<String> violations) {
        extensions.forEach((name, value) -> {
            String shown = name.length() > MAX_ECHOED_NAME ? name.substring(0, MAX_ECHOED_NAME) + "..." : name;
            if (!isValidExtensionName(name)) {
                violations.add("extension attribute name \"" + shown + "\" is not legal: use 1 to "
                        + MAX_EXTENSION_NAME_LENGTH + " lowercase letters and digits");
            } else if (!isLegalExtensionValue(value)) {
                violations.add("extension attribute " + shown + " must be a string, a boolean or a 32-bit integer");
            }
        });
    }

    private static boolean isLegalExtensionValue(Object value) {
        if (value instanceof String || value instanceof Boolean
                || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return true;
        }
        if (value instanceof Long l) {
            return l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE;
        }
        if (value instanceof BigInteger b) {
            return b.bitLength() < 32;
        }
        return false;
    }

    private static boolean isPrintableWithoutSpace(String s, int max) {
        if (!hasLength(s, max)) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                return false;
            }
        }
        return true;
    }

    private static boolean hasLength(String s, int max) {
        return !s.isEmpty() && s.length() <= max;
    }

    private static boolean isUriReference(String s, int max) {
        if (!hasLength(s, max)) {
            return false;
        }
        try {
            new URI(s);
            return true;
        } catch (URISyntaxException e) {
            return false;
        }
    }

    private static boolean isAbsoluteUri(String s) {
        if (!hasLength(s, MAX_DATASCHEMA_LENGTH)) {
            return false;
        }
        try {
            return new URI(s).isAbsolute();
        } catch (URISyntaxException e) {
            return false;
        }
    }

    private static boolean isBase64(String s) {
        try {
            Base64.getDecoder().decode(s);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static boolean isAllZero(String hex) {
        for (int i = 0; i < hex.length(); i++) {
            if (hex.charAt(i) != '0') {
                return false;
            }
        }
        return true;
    }
}
