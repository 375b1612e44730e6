package dev.switchboard.platform.problem;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.errors.Headers;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.web.ErrorResponseException;

import java.time.Duration;

/**
 * Every domain failure of every service: one {@link ErrorCode}, a human detail that never carries
 * exception names or stack traces, and optional response headers such as {@code Retry-After}.
 */
public class SwitchboardException extends ErrorResponseException {

    private final ErrorCode code;

    public SwitchboardException(ErrorCode code, String detail) {
        this(code, detail, null);
    }

    public SwitchboardException(ErrorCode code, String detail, Throwable cause) {
        super(HttpStatusCode.valueOf(code.status()), problem(code, detail), cause);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }

    /** The problem body of {@code PROTOCOL.md}: type, title, status, detail and code. */
    public static ProblemDetail problem(ErrorCode code, String detail) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatusCode.valueOf(code.status()), detail);
        problem.setType(code.type());
        problem.setTitle(code.title());
        problem.setProperty("code", code.code());
        return problem;
    }

    public static SwitchboardException invalid(String detail) {
        return new SwitchboardException(ErrorCode.INVALID_REQUEST, detail);
    }

    public static SwitchboardException notFound(String detail) {
        return new SwitchboardException(ErrorCode.NOT_FOUND, detail);
    }

    public static SwitchboardException conflict(String detail) {
        return new SwitchboardException(ErrorCode.CONFLICT, detail);
    }

    /** A {@code 429} (rate_limited or slow_down) that tells the caller when to come back. */
    public static SwitchboardException retryLater(ErrorCode code, String detail, Duration retryAfter) {
        SwitchboardException e = new SwitchboardException(code, detail);
        long seconds = Math.max(1, (retryAfter.toMillis() + 999) / 1000);
        e.getHeaders().set(Headers.RETRY_AFTER, Long.toString(seconds));
        e.getBody().setProperty("retryAfterMs", retryAfter.toMillis());
        return e;
    }
}
