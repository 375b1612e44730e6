package dev.switchboard.platform.problem;

import dev.switchboard.contracts.errors.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.codec.DecodingException;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.ProblemDetail;
import org.springframework.validation.FieldError;
import org.springframework.web.ErrorResponse;
import org.springframework.web.bind.support.WebExchangeBindException;
import org.springframework.web.server.MethodNotAllowedException;
import org.springframework.web.server.NotAcceptableStatusException;
import org.springframework.web.server.PayloadTooLargeException;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebInputException;
import org.springframework.web.server.UnsupportedMediaTypeStatusException;

import java.util.stream.Collectors;

/**
 * The one translation of any failure into a problem of {@code PROTOCOL.md}'s catalog. Framework
 * messages are replaced by our own words so no class name or internal detail leaks.
 */
public final class ProblemMapper {

    private static final Logger log = LoggerFactory.getLogger(ProblemMapper.class);

    /** A problem and the headers that go with it. */
    public record Mapped(ProblemDetail problem, HttpHeaders headers) {
    }

    private ProblemMapper() {
    }

    public static Mapped map(Throwable error) {
        Throwable e = unwrapLimit(error);
        if (e instanceof SwitchboardException s) {
            return new Mapped(s.getBody(), s.getHeaders());
        }
        if (e instanceof DataBufferLimitException || e instanceof PayloadTooLargeException) {
            return of(ErrorCode.PAYLOAD_TOO_LARGE, "The request body is larger than this endpoint accepts.");
        }
        if (e instanceof WebExchangeBindException bind) {
            String detail = bind.getFieldErrors().stream()
                    .map(ProblemMapper::describe)
                    .collect(Collectors.joining("; "));
            if (detail.isEmpty()) {
                detail = "The request is invalid.";
            }
            return of(ErrorCode.INVALID_REQUEST, detail);
        }
        if (e instanceof UnsupportedMediaTypeStatusException media) {
            return of(ErrorCode.INVALID_REQUEST, "Unsupported content type"
                    + (media.getContentType() == null ? "" : " " + media.getContentType())
                    + "; supported: " + media.getSupportedMediaTypes() + ".");
        }
        if (e instanceof NotAcceptableStatusException) {
            return of(ErrorCode.INVALID_REQUEST, "No acceptable representation; ask for application/json.");
        }
        if (e instanceof MethodNotAllowedException m) {
            return methodNotAllowed(m);
        }
        if (e instanceof ServerWebInputException input) {
            return of(ErrorCode.INVALID_REQUEST, inputDetail(input));
        }
        if (e instanceof ResponseStatusException rse) {
            int status = rse.getStatusCode().value();
            if (status == 404) {
                return of(ErrorCode.NOT_FOUND, "No such resource.");
            }
            if (status == 405) {
                return of(ErrorCode.METHOD_NOT_ALLOWED, "This method is not allowed here.");
            }
            if (status == 413) {
                return of(ErrorCode.PAYLOAD_TOO_LARGE, "The request body is too large.");
            }
            if (status == 401) {
                return of(ErrorCode.UNAUTHENTICATED, "Credentials are missing or invalid.");
            }
            if (status == 403) {
                return of(ErrorCode.FORBIDDEN, "The credential may not do this.");
            }
            if (status == 503) {
                return of(ErrorCode.UNAVAILABLE, "The service is unavailable; retry later.");
            }
            if (status >= 400 && status < 500) {
                return of(ErrorCode.INVALID_REQUEST, rse.getReason() == null ? "The request is invalid." : rse.getReason());
            }
        }
        if (e instanceof ErrorResponse other && other.getStatusCode().is4xxClientError()) {
            return of(ErrorCode.INVALID_REQUEST, "The request is invalid.");
        }
        log.error("Unexpected failure", error);
        return of(ErrorCode.INTERNAL, "An unexpected error occurred.");
    }

    public static Mapped of(ErrorCode code, String detail) {
        return new Mapped(SwitchboardException.problem(code, detail), new HttpHeaders());
    }

    /** RFC 9110 §15.5.6: a 405 lists the methods the path does support in {@code Allow}. */
    private static Mapped methodNotAllowed(MethodNotAllowedException m) {
        String allowed = m.getSupportedMethods().stream()
                .map(HttpMethod::name)
                .sorted()
                .collect(Collectors.joining(", "));
        Mapped mapped = of(ErrorCode.METHOD_NOT_ALLOWED, "Method " + m.getHttpMethod() + " is not allowed on this path"
                + (allowed.isEmpty() ? "." : "; allowed: " + allowed + "."));
        mapped.headers().set(HttpHeaders.ALLOW, allowed);
        return mapped;
    }

    private static String describe(FieldError error) {
        return error.getField() + ": " + (error.getDefaultMessage() == null ? "invalid" : error.getDefaultMessage());
    }

    private static String inputDetail(ServerWebInputException input) {
        Throwable cause = input.getCause();
        if (cause instanceof DecodingException) {
            return "The body is not valid JSON for this request.";
        }
        if (input.getMethodParameter() != null && input.getMethodParameter().getParameterName() != null) {
            return "Invalid value for '" + input.getMethodParameter().getParameterName() + "'.";
        }
        return input.getReason() == null ? "The request is invalid." : input.getReason();
    }

    private static Throwable unwrapLimit(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof DataBufferLimitException) {
                return t;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return error;
    }
}
