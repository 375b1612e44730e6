package dev.switchboard.gateway;

import io.netty.handler.codec.http.HttpHeaderNames;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;
import reactor.netty.resources.ConnectionProvider;

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
     * relays bodies both ways as they come (flushed per chunk: SSE and long-polls pass through).
     */
    private static DisposableServer keyAddingProxy(String target, String authorization) {
        HttpClient client = HttpClient.create(ConnectionProvider.builder("conformance-proxy").maxConnections(500).build())
                .baseUrl(target);
        return HttpServer.create().host("127.0.0.1").port(0)
                .handle((in, out) -> client
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
                        .send((request, body) -> body.send(in.receive().retain()))
                        .response((answer, body) -> {
                            out.status(answer.status());
                            List<Map.Entry<String, String>> headers = new ArrayList<>(answer.responseHeaders().entries());
                            headers.forEach(e -> {
                                if (!HOP_BY_HOP.contains(e.getKey().toLowerCase(java.util.Locale.ROOT))) {
                                    out.addHeader(e.getKey(), e.getValue());
                                }
                            });
                            return out.send(body.retain(), buffer -> true).then();
                        })
                        .then()
                        .onErrorResume(e -> Mono.empty()))
                .bindNow();
    }
}
