package dev.switchboard.client;

import dev.switchboard.contracts.errors.Headers;
import io.netty.channel.ChannelException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.netty.channel.AbortedException;
import reactor.netty.http.client.HttpClient;
import reactor.util.retry.Retry;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;

/** One request to the gateway, its response turned into a value or a {@link SwitchboardException}, and the retry rules. */
final class Http {

    private static final Logger log = LoggerFactory.getLogger(SwitchboardClient.class);
    private static final int MAX_DETAIL = 512;

    /** A response as received: status, the {@code Retry-After} header (or null), the body text. */
    record Response(int status, String retryAfter, String body) {
    }

    private final HttpClient http;
    private final JsonMapper json;

    Http(HttpClient http, JsonMapper json) {
        this.http = http;
        this.json = json;
    }

    /**
     * Sends one request ({@code body} null: none) and answers the body of a 2xx response; any
     * other status is a {@link SwitchboardException}. {@code timeout} bounds the wait for the
     * response after the request went out.
     */
    Mono<String> exchange(HttpMethod method, String path, String contentType, String body, Duration timeout) {
        byte[] bytes = body == null ? null : body.getBytes(StandardCharsets.UTF_8);
        return http.responseTimeout(timeout)
                .request(method)
                .uri(path)
                .send((request, out) -> {
                    if (bytes == null) {
                        return out;
                    }
                    request.header(HttpHeaderNames.CONTENT_TYPE, contentType);
                    request.header(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(bytes.length));
                    return out.sendByteArray(Mono.just(bytes));
                })
                .responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8).defaultIfEmpty("")
                        .map(text -> new Response(response.status().code(),
                                response.responseHeaders().get(Headers.RETRY_AFTER), text)))
                .flatMap(response -> response.status() / 100 == 2
                        ? Mono.just(response.body())
                        : Mono.error(problem(response)));
    }

    SwitchboardException problem(Response response) {
        String code = null;
        String title = null;
        String detail = null;
        Duration retryAfter = null;
        try {
            JsonNode problem = json.readTree(response.body());
            if (problem != null && problem.isObject()) {
                code = text(problem, "code");
                title = text(problem, "title");
                detail = text(problem, "detail");
                if (problem.path("retryAfterMs").isNumber()) {
                    retryAfter = Duration.ofMillis(Math.max(0, problem.get("retryAfterMs").asLong()));
                }
            }
        } catch (RuntimeException notJson) {
            // Not a problem document (a proxy's error page): keep the start of the body as the detail.
        }
        if (code == null && detail == null) {
            detail = truncate(response.body(), MAX_DETAIL);
        }
        if (retryAfter == null && response.retryAfter() != null) {
            try {
                retryAfter = Duration.ofSeconds(Math.max(0, Long.parseLong(response.retryAfter().trim())));
            } catch (NumberFormatException httpDate) {
                // An HTTP-date: the platform never sends one; fall back to the backoff.
            }
        }
        return new SwitchboardException(response.status(), code, title, detail, retryAfter);
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asString();
    }

    static String truncate(String text, int max) {
        if (text == null || text.length() <= max) {
            return text;
        }
        int end = max;
        if (Character.isHighSurrogate(text.charAt(end - 1))) {
            end--;
        }
        return text.substring(0, end);
    }

    /**
     * A failure the same request may not meet again: a {@code 429} or {@code 5xx}, a connection
     * that could not be opened or broke before the whole response arrived, a response that did
     * not come in time.
     */
    static boolean isTransient(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SwitchboardException e) {
                return e.retryable();
            }
            if (t instanceof IOException || t instanceof ChannelException || t instanceof AbortedException
                    || t instanceof TimeoutException) {
                return true;
            }
        }
        return false;
    }

    /** The retry of {@link RetryPolicy}: transient failures only, a 429's own wait, else jittered backoff. */
    static Retry retry(RetryPolicy policy, String what) {
        return Retry.from(signals -> signals.concatMap(signal -> {
            Throwable failure = signal.failure();
            long retry = signal.totalRetries();
            if (!isTransient(failure) || retry + 1 >= policy.maxAttempts()) {
                return Mono.error(failure);
            }
            Duration wait = waitBefore(policy, failure, retry);
            if (wait == null) {
                return Mono.error(failure);
            }
            log.debug("{} failed (attempt {} of {}), retrying in {} ms: {}", what, retry + 1, policy.maxAttempts(),
                    wait.toMillis(), failure.toString());
            return Mono.delay(wait).thenReturn(retry);
        }));
    }

    /** The wait before retry {@code retry}, or null when a 429 asks for longer than the policy waits. */
    static Duration waitBefore(RetryPolicy policy, Throwable failure, long retry) {
        if (failure instanceof SwitchboardException e && e.retryAfter() != null) {
            return e.retryAfter().compareTo(policy.maxRetryAfter()) > 0 ? null : e.retryAfter();
        }
        long max = policy.backoff(retry).toMillis();
        long half = max / 2;
        return Duration.ofMillis(half + ThreadLocalRandom.current().nextLong(max - half + 1));
    }
}
