package dev.switchboard.bench;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The load generator's HTTP client: Reactor Netty on a pool of {@code connections} keep-alive
 * connections to the gateway (NOTES.md: the default pool stops at 500 per host and waits 45 s; a
 * sized pool with an unbounded wait queue keeps the client from being what limits the test).
 */
final class LoadClient implements AutoCloseable {

    static final String BATCH = "application/cloudevents-batch+json";
    static final String SINGLE = "application/cloudevents+json";
    static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(30);

    record Reply(int status, String body) {
    }

    private final ConnectionProvider pool;
    private final HttpClient http;

    LoadClient(String name, String baseUrl, String apiKey, int connections) {
        this.pool = ConnectionProvider.builder(name)
                .maxConnections(connections)
                .pendingAcquireMaxCount(-1)
                .pendingAcquireTimeout(Duration.ofSeconds(60))
                .build();
        this.http = HttpClient.create(pool)
                .baseUrl(baseUrl)
                .responseTimeout(RESPONSE_TIMEOUT)
                .headers(h -> h.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + apiKey));
    }

    /** POSTs one body; the reply's status and text, or an error (connection failure, timeout). */
    Mono<Reply> post(String path, String contentType, byte[] body) {
        return http.headers(h -> h.set(HttpHeaderNames.CONTENT_TYPE, contentType))
                .post()
                .uri(path)
                .send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(body)))
                .responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8)
                        .defaultIfEmpty("")
                        .map(text -> new Reply(response.status().code(), text)));
    }

    /** GETs a path; the reply's status and text. */
    Mono<Reply> get(String path) {
        return http.get().uri(path)
                .responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8)
                        .defaultIfEmpty("")
                        .map(text -> new Reply(response.status().code(), text)));
    }

    @Override
    public void close() {
        pool.disposeLater().block(Duration.ofSeconds(10));
    }

    /** How many times {@code needle} occurs in {@code text}: enough to check a batch reply without parsing it. */
    static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length())) {
            n++;
        }
        return n;
    }
}
