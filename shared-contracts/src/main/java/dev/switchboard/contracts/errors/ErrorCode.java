package dev.switchboard.contracts.errors;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.net.URI;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The one catalog of error codes of {@code PROTOCOL.md}, shared by REST problem details and
 * WebSocket {@code error} frames, with the one code → HTTP status mapping.
 */
public enum ErrorCode {
    UNAUTHENTICATED("unauthenticated", 401, "Unauthenticated"),
    FORBIDDEN("forbidden", 403, "Forbidden"),
    TOPIC_NOT_FOUND("topic_not_found", 404, "Topic not found"),
    NOT_FOUND("not_found", 404, "Not found"),
    INVALID_REQUEST("invalid_request", 400, "Invalid request"),
    /** Sent with an {@code Allow} header listing the methods the path supports. */
    METHOD_NOT_ALLOWED("method_not_allowed", 405, "Method not allowed"),
    CONFLICT("conflict", 409, "Conflict"),
    PAYLOAD_TOO_LARGE("payload_too_large", 413, "Payload too large"),
    UNSUPPORTED_SCHEMA_VERSION("unsupported_schema_version", 422, "Unsupported schema version"),
    RATE_LIMITED("rate_limited", 429, "Rate limited"),
    SLOW_DOWN("slow_down", 429, "Slow down"),
    UNAVAILABLE("unavailable", 503, "Unavailable"),
    /** Not in the public catalog's happy paths: an unexpected server fault, never with details. */
    INTERNAL("internal", 500, "Internal error");

    /** Prefix of every problem {@code type}: {@code urn:switchboard:problem:{code}}. */
    public static final String TYPE_PREFIX = "urn:switchboard:problem:";

    private static final Map<String, ErrorCode> BY_CODE = Arrays.stream(values())
            .collect(Collectors.toUnmodifiableMap(ErrorCode::code, Function.identity()));

    private final String code;
    private final int status;
    private final String title;

    ErrorCode(String code, int status, String title) {
        this.code = code;
        this.status = status;
        this.title = title;
    }

    /** The wire code, e.g. {@code topic_not_found}. */
    @JsonValue
    public String code() {
        return code;
    }

    /** The HTTP status this code is sent with. */
    public int status() {
        return status;
    }

    /** A short human title, the same for every occurrence of the code. */
    public String title() {
        return title;
    }

    /** The problem {@code type} URI. */
    public URI type() {
        return URI.create(TYPE_PREFIX + code);
    }

    /** The code with this wire name; empty for an unknown name or null. */
    public static Optional<ErrorCode> fromCode(String code) {
        return code == null ? Optional.empty() : Optional.ofNullable(BY_CODE.get(code));
    }

    @JsonCreator
    static ErrorCode parse(String code) {
        return fromCode(code).orElseThrow(() -> new IllegalArgumentException("unknown error code: " + code));
    }
}
