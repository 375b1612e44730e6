package dev.switchboard.gateway;

import dev.switchboard.gateway.browser.Chromium;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.chrome.ChromeDriver;
import org.springframework.http.MediaType;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Durable Streams' own clients against Switchboard, as their users run them: in headless Chromium,
 * {@code @durable-streams/client} follows a stream a backend appends to, the page reloads mid-stream
 * and resumes from the offset it saved, and sees every message exactly once; in Node, an AI SDK app
 * built with {@code @durable-streams/aisdk-transport} writes a streamed answer through Switchboard
 * and its chat transport reads it back, live and again after a reconnect.
 */
class DurableStreamsClientsIntegrationTests {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static DisposableServer files;
    private static TestPlatform platform;
    private static String secret;
    private static TestPlatform.Key key;

    @BeforeAll
    static void start() throws Exception {
        NodePackages.assumeNode();
        Path work = NodePackages.install().toAbsolutePath();
        files = pageServer(work);
        // The page is served from another origin than the gateway's: the gateway allows it (CORS).
        platform = TestPlatform.start(1, "--switchboard.gateway.stream-cors-origins=http://127.0.0.1:" + files.port());
        secret = platform.createTenant("ds-clients");
        key = platform.createKey("ds-clients", "publish", "subscribe");
    }

    @AfterAll
    static void stop() {
        if (platform != null) {
            platform.close();
        }
        if (files != null) {
            files.disposeNow();
        }
    }

    @Test
    void aBrowserFollowsAStreamAcrossAReloadAndSeesEveryMessageOnce() throws Exception {
        String path = "/v1/stream/chat/live-" + UUID.randomUUID();
        platform.gatewayClient(0).put().uri(path).header("Authorization", key.bearer()).contentType(MediaType.APPLICATION_JSON)
                .exchange().expectStatus().isCreated();
        String jwt = WsClient.jwt(secret, "ds-clients", "reader-1", Instant.now().plusSeconds(600), List.of("chat.*"), List.of());
        String page = "http://127.0.0.1:" + files.port() + "/client-page.html?url="
                + java.net.URLEncoder.encode(platform.gatewayUrl(0) + path, java.nio.charset.StandardCharsets.UTF_8) + "&token=" + jwt;
        int total = 40;
        try (Chromium chromium = Chromium.start()) {
            ChromeDriver driver = chromium.driver();
            driver.get(page);
            for (int n = 0; n < total; n++) {
                platform.gatewayClient(0).post().uri(path).header("Authorization", key.bearer()).contentType(MediaType.APPLICATION_JSON)
                        .bodyValue("{\"n\":" + n + "}").exchange().expectStatus().isNoContent();
                Thread.sleep(40);
                if (n == total / 2) {
                    driver.navigate().refresh();
                }
            }
            List<Integer> seen = List.of();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                Object stored = driver.executeScript("return localStorage.getItem('seen')");
                seen = stored == null ? List.of() : JSON.readValue((String) stored, JSON.getTypeFactory().constructCollectionType(List.class, Integer.class));
                if (seen.size() >= total) {
                    break;
                }
                Thread.sleep(100);
            }
            assertThat(seen).as("messages seen (console: %s)", chromium.console()).isEqualTo(IntStream.range(0, total).boxed().toList());
            assertThat(driver.executeScript("return localStorage.getItem('loads')")).as("page loads").isEqualTo("2");
        }
    }

    @Test
    void anAiSdkAppWritesAStreamedAnswerThroughSwitchboardAndReadsItBack() throws Exception {
        NodePackages.Result result = NodePackages.run(Duration.ofMinutes(2),
                Map.of("GATEWAY", platform.gatewayUrl(0), "KEY", key.key()), "node", "aisdk-roundtrip.mjs");
        assertThat(result.exit()).as("node aisdk-roundtrip.mjs:%n%s", result.output()).isZero();
        String last = result.output().strip().lines().reduce((a, b) -> b).orElse("");
        JsonNode summary = JSON.readTree(last);
        assertThat(summary.path("liveSame").asBoolean()).isTrue();
        assertThat(summary.path("resumedSame").asBoolean()).isTrue();
        assertThat(summary.path("text").asString()).isEqualTo("Streamed through Switchboard and read back exactly once");
    }

    /**
     * The page and the packages it imports, from the npm work folder. Packages built for bundlers import
     * their own files without an extension ({@code './fetch'}); a bundler adds {@code .js}, and so does this.
     */
    private static DisposableServer pageServer(Path work) {
        return HttpServer.create().host("127.0.0.1").port(0)
                .route(routes -> routes.get("/**", (request, response) -> {
                    String uri = request.uri().replaceFirst("\\?.*$", "");
                    Path file = uri.startsWith("/modules/") ? work.resolve("node_modules").resolve(uri.substring("/modules/".length()))
                            : work.resolve(uri.substring(1));
                    if (!file.normalize().startsWith(work) || !Files.isRegularFile(file)) {
                        file = Path.of(file + ".js");
                    }
                    if (!file.normalize().startsWith(work) || !Files.isRegularFile(file)) {
                        return response.status(404).send();
                    }
                    String type = file.toString().endsWith(".html") ? "text/html; charset=utf-8" : "text/javascript; charset=utf-8";
                    try {
                        byte[] bytes = Files.readAllBytes(file);
                        return response.header("Content-Type", type).sendByteArray(Mono.just(bytes));
                    } catch (java.io.IOException e) {
                        return Mono.error(e);
                    }
                }))
                .bindNow();
    }
}
