package dev.switchboard.gateway;

import dev.switchboard.leaks.LeakDetectionLevel;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.client.WebClient;
import tools.jackson.databind.JsonNode;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Credentials over a socket's whole life, client JWTs on REST, and where a lagging cut comes from.
 * The idle timeout here is ten minutes, so any lagging cut within a test's time can only come from
 * the socket's outbound queue overflowing.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
@LeakDetectionLevel(ResourceLeakDetector.Level.PARANOID)
class WebSocketCredentialsIntegrationTests {

    /** ClientTokens' clock skew: a token is honoured until exp plus this. */
    static final int SKEW = 30;

    static TestPlatform platform;
    static String secret;
    static TestPlatform.Key publisher;

    @BeforeAll
    static void start() {
        platform = TestPlatform.start(1,
                "--switchboard.gateway.websocket.ping-interval=30s",
                "--switchboard.gateway.websocket.idle-timeout=10m",
                "--switchboard.gateway.websocket.queue-frames=64",
                "--switchboard.gateway.websocket.queue-bytes=262144");
        secret = platform.createTenant("crdacme");
        publisher = platform.createKey("crdacme", "publish", "subscribe");
        for (String pattern : List.of("a.*", "b.*", "flood.*")) {
            platform.declareTopic("crdacme", pattern, Map.of());
        }
    }

    @AfterAll
    static void stop() {
        if (platform != null) {
            platform.close();
        }
    }

    /** A token accepted now that expires {@code seconds} from now (exp lies in the past, within the skew). */
    private static String expiringIn(int seconds, String subject, List<String> patterns) {
        return WsClient.jwt(secret, "crdacme", subject, Instant.now().minusSeconds(SKEW - seconds), patterns, patterns);
    }

    private static long publishOne(String topic, String text) {
        JsonNode body = platform.gatewayClient(0).post().uri("/v1/topics/{t}/events", topic)
                .header("Authorization", publisher.bearer())
                .contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("type", "t", "data", Map.of("text", text)))
                .exchange().expectStatus().isCreated()
                .expectBody(JsonNode.class).returnResult().getResponseBody();
        return body.get("seq").asLong();
    }

    @Test
    void anExpiredTokenClosesTheSocketWith4001() {
        try (WsClient ws = WsClient.open(platform.gatewayUrl(0)).connect(expiringIn(3, "u1", List.of("a.*")))) {
            ws.subscribe("a.expire", null);
            long opened = System.nanoTime();
            JsonNode error = ws.nextOp("error");
            assertThat(error.path("code").asString()).isEqualTo("unauthenticated");
            assertThat(error.path("message").asString()).contains("expired");
            assertThat(ws.awaitClose()).isEqualTo(4001);
            assertThat(Duration.ofNanos(System.nanoTime() - opened)).isLessThan(Duration.ofSeconds(15));
        }
    }

    @Test
    void aFreshTokenRefreshesTheSocketInPlaceAndNarrowsItsSubscriptions() {
        try (WsClient ws = WsClient.open(platform.gatewayUrl(0)).connect(expiringIn(3, "u2", List.of("a.*", "b.*")))) {
            long headA = ws.subscribe("a.refresh", null).path("head").asLong();
            ws.subscribe("b.refresh", null);
            String session = null;
            long id = ws.send(Map.of("op", "connect",
                    "token", WsClient.jwt(secret, "crdacme", "u2", Instant.now().plusSeconds(600), List.of("a.*"), List.of("a.*"))));
            List<JsonNode> frames = ws.until(f -> f.path("id").asLong(-1) == id, WsClient.WAIT);
            JsonNode connected = frames.get(frames.size() - 1);
            assertThat(connected.path("op").asString()).as("reply to the refresh: %s", connected).isEqualTo("connected");
            assertThat(connected.path("session").asString()).isNotBlank();
            assertThat(frames).anySatisfy(f -> {
                assertThat(f.path("op").asString()).isEqualTo("error");
                assertThat(f.path("code").asString()).isEqualTo("forbidden");
                assertThat(f.path("topic").asString()).isEqualTo("b.refresh");
            });
            // Past the first token's expiry the socket is still up and a.refresh still flows.
            sleep(Duration.ofSeconds(5));
            long seq = publishOne("a.refresh", "after refresh");
            JsonNode event = ws.nextOp("event");
            assertThat(event.path("topic").asString()).isEqualTo("a.refresh");
            assertThat(event.path("event").path("seq").asLong()).isEqualTo(seq).isEqualTo(headA + 1);
            long ping = ws.send(Map.of("op", "ping"));
            assertThat(ws.next(f -> f.path("id").asLong(-1) == ping).path("op").asString()).isEqualTo("pong");
            assertThat(ws.closeCode).isNotDone();
            // b.* is no longer allowed.
            long sub = ws.send(Map.of("op", "subscribe", "topic", "b.refresh"));
            assertThat(ws.next(f -> f.path("id").asLong(-1) == sub).path("code").asString()).isEqualTo("forbidden");
        }
    }

    @Test
    void aRefreshForAnotherSubjectOrABadTokenIsRefusedAndTheSocketStays() {
        try (WsClient ws = WsClient.open(platform.gatewayUrl(0)).connect(WsClient.jwt(secret, "crdacme", "u3",
                Instant.now().plusSeconds(600), List.of("a.*"), List.of("a.*")))) {
            long other = ws.send(Map.of("op", "connect",
                    "token", WsClient.jwt(secret, "crdacme", "someone-else", Instant.now().plusSeconds(600), List.of(">"), List.of(">"))));
            assertThat(ws.next(f -> f.path("id").asLong(-1) == other).path("code").asString()).isEqualTo("forbidden");
            long bad = ws.send(Map.of("op", "connect",
                    "token", WsClient.jwt("not-the-tenant-secret-but-long-enough-for-hs256", "crdacme", "u3", Instant.now().plusSeconds(600), List.of(">"), List.of(">"))));
            assertThat(ws.next(f -> f.path("id").asLong(-1) == bad).path("code").asString()).isEqualTo("unauthenticated");
            long ping = ws.send(Map.of("op", "ping"));
            assertThat(ws.next(f -> f.path("id").asLong(-1) == ping).path("op").asString()).isEqualTo("pong");
            // Still the first token's rights: b.* was never granted.
            long sub = ws.send(Map.of("op", "subscribe", "topic", "b.x"));
            assertThat(ws.next(f -> f.path("id").asLong(-1) == sub).path("code").asString()).isEqualTo("forbidden");
        }
    }

    @Test
    void deletingTheTenantClosesItsSocketsWith4001() {
        String goneSecret = platform.createTenant("crdgone");
        platform.declareTopic("crdgone", "g.*", Map.of());
        try (WsClient gone = WsClient.open(platform.gatewayUrl(0)).connect(WsClient.jwt(goneSecret, "crdgone", List.of("g.*")));
             WsClient stays = WsClient.open(platform.gatewayUrl(0)).connect(WsClient.jwt(secret, "crdacme", List.of("a.*")))) {
            gone.subscribe("g.x", null);
            platform.admin().delete().uri("/admin/v1/tenants/{t}", "crdgone").exchange().expectStatus().isNoContent().expectBody(Void.class);
            JsonNode error = gone.nextOp("error");
            assertThat(error.path("code").asString()).isEqualTo("unauthenticated");
            assertThat(gone.awaitClose()).isEqualTo(4001);
            long ping = stays.send(Map.of("op", "ping"));
            assertThat(stays.next(f -> f.path("id").asLong(-1) == ping).path("op").asString()).isEqualTo("pong");
        }
    }

    @Test
    void restAcceptsClientJwtsWithinTheirClaims() {
        String jwt = "Bearer " + WsClient.jwt(secret, "crdacme", "u4", Instant.now().plusSeconds(600), List.of("a.*"), List.of("a.*"));
        JsonNode published = platform.gatewayClient(0).post().uri("/v1/topics/{t}/events", "a.rest")
                .header("Authorization", jwt).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("type", "t", "data", Map.of("n", 1)))
                .exchange().expectStatus().isCreated()
                .expectBody(JsonNode.class).returnResult().getResponseBody();
        long seq = published.get("seq").asLong();
        platform.gatewayClient(0).get().uri("/v1/topics/{t}/events?after={a}", "a.rest", seq - 1)
                .header("Authorization", jwt)
                .exchange().expectStatus().isOk()
                .expectBody().jsonPath("$.events[0].seq").isEqualTo(seq);
        for (String op : List.of("publish", "read")) {
            var request = op.equals("publish")
                    ? platform.gatewayClient(0).post().uri("/v1/topics/{t}/events", "b.rest").contentType(MediaType.APPLICATION_JSON)
                            .bodyValue(Map.of("type", "t", "data", 1))
                    : platform.gatewayClient(0).get().uri("/v1/topics/{t}/events", "b.rest");
            request.header("Authorization", jwt).exchange().expectStatus().isForbidden()
                    .expectBody().jsonPath("$.code").isEqualTo("forbidden");
        }
        String head = platform.gatewayClient(0).get().uri("/v1/topics/{t}/events?after={a}&limit=1", "a.rest", Long.MAX_VALUE - 1)
                .header("Authorization", jwt).exchange().expectStatus().isOk().expectBody(JsonNode.class).returnResult()
                .getResponseBody().path("head").toString();
        List<String> badTokens = List.of(
                WsClient.jwt("not-the-tenant-secret-but-long-enough-for-hs256", "crdacme", List.of(">")),
                WsClient.jwt(secret, "crdacme", "u4", Instant.now().minusSeconds(120), List.of(">"), List.of(">")),
                "not.a.jwt");
        for (String bad : badTokens) {
            platform.gatewayClient(0).post().uri("/v1/topics/{t}/events", "a.rest")
                    .header("Authorization", "Bearer " + bad).contentType(MediaType.APPLICATION_JSON)
                    .bodyValue(Map.of("type", "t", "data", 1))
                    .exchange().expectStatus().isUnauthorized()
                    .expectBody().jsonPath("$.code").isEqualTo("unauthenticated");
        }
        // Nothing was stored by the refused requests.
        platform.gatewayClient(0).get().uri("/v1/topics/{t}/events?after={a}&limit=1", "a.rest", Long.MAX_VALUE - 1)
                .header("Authorization", jwt).exchange().expectStatus().isOk()
                .expectBody(JsonNode.class).value(b -> assertThat(b.path("head").toString()).isEqualTo(head));
    }

    @Test
    void anSseStreamOpenedWithAJwtEndsWhenTheTokenExpires() {
        String topic = "a.sse";
        long seq = publishOne(topic, "before");
        String jwt = "Bearer " + expiringIn(3, "u5", List.of("a.*"));
        long started = System.nanoTime();
        List<String> ids = WebClient.create(platform.gatewayUrl(0)).get()
                .uri("/v1/topics/{t}/stream?after={a}", topic, seq - 1)
                .header("Authorization", jwt)
                .retrieve()
                .bodyToFlux(new org.springframework.core.ParameterizedTypeReference<org.springframework.http.codec.ServerSentEvent<String>>() { })
                .filter(e -> e.event() == null && e.data() != null)
                .map(e -> e.id())
                .collectList()
                .block(Duration.ofSeconds(30));
        assertThat(ids).containsExactly(String.valueOf(seq));
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(20));
    }

    /**
     * With the idle check ten minutes away, a reader that stops reading is cut only because its
     * queue fills: so the socket's writer must stop taking frames while the channel is not
     * writable, instead of piling them into Netty's unbounded outbound buffer.
     */
    @Test
    void aStalledReaderIsCutByItsQueueOverflowingAndResumesExactly() throws Exception {
        String topic = "flood.a";
        int total = 300;
        try (WsClient fast = WsClient.open(platform.gatewayUrl(0)).connect(WsClient.jwt(secret, "crdacme", List.of("flood.*")));
             WsClient slow = WsClient.smallBuffer(platform.gatewayUrl(0))) {
            slow.connect(WsClient.jwt(secret, "crdacme", List.of("flood.*")));
            long head = fast.subscribe(topic, null).path("head").asLong();
            slow.subscribe(topic, null);
            slow.pause();
            Counter lagging = platform.gateway(0).getBean(MeterRegistry.class)
                    .counter("switchboard.gateway.ws.lagging.disconnects", "tenant", "crdacme");
            double before = lagging.count();
            // 300 × 20 kB = 6 MB: far more than a 64-frame / 256 kB queue plus loopback TCP buffers.
            CompletableFuture<List<Long>> published = CompletableFuture.supplyAsync(() -> publishBatches(topic, total, 20_000));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (lagging.count() == before && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(lagging.count()).as("cut by queue overflow, not by the 10-minute idle check").isEqualTo(before + 1);
            slow.unpause();
            List<JsonNode> frames = slow.until(f -> f.path("op").asString().equals("reconnect"), WsClient.WAIT);
            JsonNode reconnect = frames.get(frames.size() - 1);
            assertThat(reconnect.path("reason").asString()).isEqualTo("lagging");
            long resume = reconnect.path("resume").path(topic).asLong();
            List<Long> seqs = TestPlatform.eventSeqs(frames);
            assertThat(seqs).containsExactlyElementsOf(range(head, resume));
            assertThat(slow.awaitClose()).isEqualTo(4008);
            List<Long> all = published.get(60, TimeUnit.SECONDS);
            List<JsonNode> fastFrames = fast.until(f -> f.path("event").path("seq").asLong() == head + total, WsClient.WAIT);
            assertThat(TestPlatform.eventSeqs(fastFrames)).containsExactlyElementsOf(all);
        }
    }

    @Test
    void publishesOverTheTopicsRateGetSlowDownAndARateLimitedError() {
        platform.declareTopic("crdacme", "slow.*", Map.of("publishRate", Map.of("perSecond", 1, "burst", 2)));
        try (WsClient ws = WsClient.open(platform.gatewayUrl(0)).connect(WsClient.jwt(secret, "crdacme", List.of("slow.*")))) {
            for (int i = 0; i < 2; i++) {
                long id = ws.send(Map.of("op", "publish", "topic", "slow.x", "event", Map.of("type", "t", "data", i)));
                assertThat(ws.next(f -> f.path("id").asLong(-1) == id).path("op").asString()).isEqualTo("published");
            }
            long id = ws.send(Map.of("op", "publish", "topic", "slow.x", "event", Map.of("type", "t", "data", 2)));
            List<JsonNode> frames = ws.until(f -> f.path("id").asLong(-1) == id, WsClient.WAIT);
            JsonNode error = frames.get(frames.size() - 1);
            assertThat(error.path("op").asString()).isEqualTo("error");
            assertThat(error.path("code").asString()).isEqualTo("rate_limited");
            JsonNode slowDown = frames.stream().filter(f -> f.path("op").asString().equals("slow_down")).findFirst().orElseThrow();
            assertThat(slowDown.path("topic").asString()).isEqualTo("slow.x");
            assertThat(slowDown.path("retryAfterMs").asLong()).isBetween(1L, 1000L);
            long ping = ws.send(Map.of("op", "ping"));
            assertThat(ws.next(f -> f.path("id").asLong(-1) == ping).path("op").asString()).isEqualTo("pong");
        }
        platform.gatewayClient(0).get().uri("/v1/topics/{t}/events?after=0", "slow.x")
                .header("Authorization", publisher.bearer()).exchange().expectStatus().isOk()
                .expectBody().jsonPath("$.events.length()").isEqualTo(2);
    }

    @Test
    void socketMetricsAreExposedWithoutTopicNames() {
        try (WsClient ws = WsClient.open(platform.gatewayUrl(0)).connect(WsClient.jwt(secret, "crdacme", List.of("a.*")))) {
            ws.subscribe("a.very-secret-topic-name", null);
            String metrics = platform.gatewayClient(0).get().uri("/actuator/prometheus").exchange().expectStatus().isOk()
                    .expectBody(String.class).returnResult().getResponseBody();
            assertThat(gauge(metrics, "switchboard_gateway_ws_sockets")).isGreaterThanOrEqualTo(1);
            assertThat(gauge(metrics, "switchboard_gateway_ws_subscriptions")).isGreaterThanOrEqualTo(1);
            assertThat(gauge(metrics, "switchboard_gateway_ws_upstreams")).isGreaterThanOrEqualTo(1);
            assertThat(gauge(metrics, "switchboard_gateway_ws_frames_in_total")).isGreaterThanOrEqualTo(2);
            assertThat(gauge(metrics, "switchboard_gateway_ws_frames_out_total")).isGreaterThanOrEqualTo(2);
            assertThat(metrics).contains("switchboard_gateway_ws_queue_depth").doesNotContain("very-secret-topic-name");
        }
    }

    private static double gauge(String metrics, String name) {
        return metrics.lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    private static List<Long> publishBatches(String topic, int n, int dataChars) {
        List<Long> seqs = new ArrayList<>();
        String event = "{\"type\":\"t\",\"data\":{\"pad\":\"" + "x".repeat(dataChars) + "\"}}";
        for (int sent = 0; sent < n; sent += 5) {
            seqs.addAll(platform.publishBatch(0, publisher, topic, java.util.Collections.nCopies(5, event)));
        }
        return seqs;
    }

    private static List<Long> range(long fromExclusive, long toInclusive) {
        return TestPlatform.seqsAfter(fromExclusive, toInclusive);
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
