package dev.switchboard.client;

import java.time.Duration;

/**
 * The platform refused a call: an RFC 9457 problem ({@code application/problem+json}) with the
 * catalog's {@code code} ({@code invalid_request}, {@code rate_limited}, …), the HTTP
 * {@code status}, and the problem's {@code title} and {@code detail}. {@link #retryAfter()} is
 * the wait a {@code 429} asked for ({@code retryAfterMs}, else {@code Retry-After}), or null.
 * A response that was not a problem document has {@code code} {@code null} and its body, cut to
 * 512 characters, as {@code detail}.
 */
public class SwitchboardException extends RuntimeException {

    private final int status;
    private final String code;
    private final String title;
    private final String detail;
    private final Duration retryAfter;

    public SwitchboardException(int status, String code, String title, String detail, Duration retryAfter) {
        super(message(status, code, detail));
        this.status = status;
        this.code = code;
        this.title = title;
        this.detail = detail;
        this.retryAfter = retryAfter;
    }

    private static String message(int status, String code, String detail) {
        return status + (code == null ? "" : " " + code) + (detail == null || detail.isEmpty() ? "" : ": " + detail);
    }

    public int status() {
        return status;
    }

    /** The problem's {@code code}, or null when the response was not a problem document. */
    public String code() {
        return code;
    }

    public String title() {
        return title;
    }

    public String detail() {
        return detail;
    }

    /** How long a {@code 429} asked the caller to wait, or null when it did not say. */
    public Duration retryAfter() {
        return retryAfter;
    }

    /**
     * Whether the same request may succeed later: {@code 429} (either code) and every {@code 5xx}.
     * Every other status is the request's own fault and fails the call at once.
     */
    public boolean retryable() {
        return status == 429 || status >= 500;
    }
}
