package dev.switchboard.gateway;

import dev.switchboard.gateway.rest.SseEventAligner;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;
import reactor.netty.resources.ConnectionProvider;
import reactor.util.retry.Retry;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The official Durable Streams conformance suite ({@code @durable-streams/server-conformance-tests}
 * 0.3.6 from npm, run by vitest in a Node process) against the gateway's {@code /v1/stream/…} on the
 * real platform and PostgreSQL. The suite sends no credentials: a loopback proxy in front of the
 * gateway adds one tenant's API key to every request and passes the rest — bodies, answers, SSE —
 * through as it comes. Outside CI the test is skipped when Node is not installed; in CI
 * ({@code CI=true}) it must run ({@link NodePackages}).
 */
class DurableStreamsConformanceIntegrationTests {

    private static final Pattern SUMMARY = Pattern.compile("Tests\\s+(.*)\\((\\d+)\\)");
    /** Headers of the proxy's own connections, not the client's to pass on. */
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "transfer-encoding", "host", "upgrade");

    private static TestPlatform platform;
    private static DisposableServer proxy;

    @BeforeAll
    static void start() {
        NodePackages.assumeNode();
        platform = TestPlatform.start(1, List.of("--switchboard.delivery.streams.long-poll-timeout=2s"),
                "--switchboard.gateway.stream-cors-origins=*");
        platform.createTenant("conformance");
        platform.admin().put().uri("/admin/v1/tenants/conformance/quotas").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("publishPerSecond", 100_000, "burst", 100_000, "maxPayloadBytes", 1_048_576))
                .exchange().expectStatus().is2xxSuccessful().expectBody(Void.class);
        TestPlatform.Key key = platform.createKey("conformance", "publish", "subscribe");
        proxy = keyAddingProxy(platform.gatewayUrl(0), key.bearer());
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.disposeNow();
        }
        if (platform != null) {
            platform.close();
        }
    }

    @Test
    void theConformanceSuitePasses() throws Exception {
        Path work = NodePackages.install();
        String output = NodePackages.run(Duration.ofMinutes(10), Map.of("CONFORMANCE_TEST_URL", "http://127.0.0.1:" + proxy.port(),
                "CONFORMANCE_LONG_POLL_MS", "3000"), "npx", "vitest", "run", "--reporter=verbose").output();
        Files.writeString(work.resolve("report.txt"), output);
        Matcher m = SUMMARY.matcher(output);
        assertThat(m.find()).as("vitest summary in:%n%s", NodePackages.tail(output)).isTrue();
        Map<String, Integer> counts = counts(m.group(1));
        int failed = counts.getOrDefault("failed", 0);
        int passed = counts.getOrDefault("passed", 0);
        System.out.printf("Durable Streams conformance suite 0.3.6: %d passed, %d failed, %d skipped of %s%n",
                passed, failed, counts.getOrDefault("skipped", 0), m.group(2));
        assertThat(failed).as("failed tests (target/durable-streams/report.txt):%n%s", failures(output)).isZero();
        // Every test but the six opt-in subscription tests.
        assertThat(passed).isEqualTo(332);
    }

    private static Map<String, Integer> counts(String summary) {
        Map<String, Integer> counts = new java.util.HashMap<>();
        Matcher part = Pattern.compile("(\\d+) (passed|failed|skipped|todo)").matcher(summary);
        while (part.find()) {
            counts.put(part.group(2), Integer.parseInt(part.group(1)));
        }
        return counts;
    }

    private static String failures(String output) {
        StringBuilder sb = new StringBuilder();
        for (String line : output.split("\n")) {
            if (line.contains("×") || line.contains("FAIL")) {
                sb.append(line).append('\n');
            }
        }
        return sb.toString();
    }

    /**
     * A loopback HTTP proxy to {@code target} that adds {@code authorization} to every request and
     * relays response bodies as they come (flushed per chunk: SSE and long-polls pass through). A
     * request is read whole first, so one whose connection to the gateway failed before it was sent is
     * sent again (at most twice more); any other failure before the answer began is a {@code 502}, never
     * a silent empty {@code 200} (the suite does not check every setup request's status).
     */
    private static DisposableServer keyAddingProxy(String target, String authorization) {
        HttpClient client = HttpClient.create(ConnectionProvider.builder("conformance-proxy").maxConnections(500).build())
                .baseUrl(target);
        return HttpServer.create().host("127.0.0.1").port(0)
                .handle((in, out) -> in.receive().aggregate().asByteArray().defaultIfEmpty(new byte[0]).flatMap(bytes -> Mono.defer(() -> client
                                .headers(h -> {
                                    in.requestHeaders().forEach(e -> {
                                        if (!HOP_BY_HOP.contains(e.getKey().toLowerCase(java.util.Locale.ROOT))) {
                                            h.add(e.getKey(), e.getValue());
                                        }
                                    });
                                    h.set(HttpHeaderNames.AUTHORIZATION, authorization);
                                })
                                .request(in.method())
                                .uri(in.uri())
                                .send((request, body) -> bytes.length == 0 ? body : body.sendByteArray(Mono.just(bytes)))
                                .response((answer, body) -> {
                                    out.status(answer.status());
                                    List<Map.Entry<String, String>> headers = new ArrayList<>(answer.responseHeaders().entries());
                                    headers.forEach(e -> {
                                        if (!HOP_BY_HOP.contains(e.getKey().toLowerCase(java.util.Locale.ROOT))) {
                                            out.addHeader(e.getKey(), e.getValue());
                                        }
                                    });
                                    String type = answer.responseHeaders().get(HttpHeaderNames.CONTENT_TYPE, "");
                                    if (!type.startsWith("text/event-stream")) {
                                        return out.send(body.retain(), buffer -> true).then();
                                    }
                                    // As the gateway does: each chunk passed on ends where an SSE event ends.
                                    SseEventAligner aligner = new SseEventAligner();
                                    Flux<byte[]> events = body.asByteArray().<byte[]>handle((chunk, sink) -> {
                                        byte[] complete = aligner.feed(chunk);
                                        if (complete != null) {
                                            sink.next(complete);
                                        }
                                    }).concatWith(Mono.fromSupplier(aligner::rest));
                                    return out.send(events.map(Unpooled::wrappedBuffer), buffer -> true).then();
                                })
                                .then())
                        .retryWhen(Retry.max(2).filter(e -> !out.hasSentHeaders() && retryable(in.method(), e)))
                        .onErrorResume(e -> out.hasSentHeaders() ? Mono.empty() : out.status(502).send().then())))
                .bindNow();
    }

    /**
     * A failure of the proxy's own connection that sending the request again cannot turn into a second
     * effect: it never went out, or the request is a read or a create (the protocol answers the same
     * {@code PUT} again with {@code 200}).
     */
    private static boolean retryable(io.netty.handler.codec.http.HttpMethod method, Throwable e) {
        boolean neverSent = e instanceof java.net.ConnectException || e instanceof java.nio.channels.NotYetConnectedException
                || (e instanceof reactor.netty.channel.AbortedException && String.valueOf(e.getMessage()).contains("BEFORE send"));
        boolean repeatable = method.equals(io.netty.handler.codec.http.HttpMethod.GET) || method.equals(io.netty.handler.codec.http.HttpMethod.HEAD)
                || method.equals(io.netty.handler.codec.http.HttpMethod.PUT);
        return neverSent || (repeatable && e instanceof reactor.netty.http.client.PrematureCloseException);
    }
}
