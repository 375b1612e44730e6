package dev.switchboard.gateway;

import dev.switchboard.gateway.fanout.Fanout;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code /v1/ws} end to end: real WebSocket clients → real gateways → real delivery → real
 * registry → real PostgreSQL. Three gateways: 0 and 1 for reconnecting "to another instance", 2
 * is shut down by the last test.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GatewayWebSocketIntegrationTests {

    static TestPlatform platform;
    static String secret;
    static String otherSecret;
    static String tinySecret;
    static TestPlatform.Key publisher;

    @BeforeAll
    static void start() {
        platform = TestPlatform.start(3,
                "--switchboard.gateway.websocket.connect-timeout=2s",
                "--switchboard.gateway.websocket.ping-interval=1s",
                "--switchboard.gateway.websocket.idle-timeout=15s",
                "--switchboard.gateway.websocket.max-frame-bytes=16384",
                "--switchboard.gateway.websocket.queue-frames=128",
                "--switchboard.gateway.websocket.queue-bytes=1048576",
                "--switchboard.gateway.websocket.upstream-linger=300ms",
                "--switchboard.gateway.websocket.shutdown-jitter=2s",
                "--switchboard.gateway.websocket.connection-report-interval=300ms",
                "--switchboard.gateway.websocket.allowed-origins=https://app.example.com");
        secret = platform.createTenant("wsacme");
        otherSecret = platform.createTenant("wsother");
        tinySecret = platform.createTenant("wstiny");
        publisher = platform.createKey("wsacme", "publish", "subscribe");
        for (String pattern : List.of("chat.*", "feed.*", "firehose.*", "down.*")) {
            platform.declareTopic("wsacme", pattern, Map.of());
        }
        platform.declareTopic("wsacme", "multi.*", Map.of("partitions", 3));
        platform.declareTopic("wstiny", "t.*", Map.of());
        platform.admin().put().uri("/admin/v1/tenants/{t}/quotas", "wstiny").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("publishPerSecond", 1000, "burst", 2000, "maxConnections", 2,
                        "maxSubscriptionsPerConnection", 2, "maxPayloadBytes", 65536))
                .exchange().expectStatus().is2xxSuccessful().expectBody(Void.class);
    }

    @AfterAll
    static void stop() {
        if (platform != null) {
            platform.close();
        }
    }

    private static String token(List<String> patterns) {
        return WsClient.jwt(secret, "wsacme", patterns);
    }

    private static WsClient connected(int gateway, List<String> patterns) {
        return WsClient.open(platform.gatewayUrl(gateway)).connect(token(patterns));
    }

    /** Publishes {@code n} events over REST in batches; returns their seqs in order. */
    private static List<Long> publish(String topic, int n, int dataChars) {
        return publish(topic, n, dataChars, 50);
    }

    private static List<Long> publish(String topic, int n, int dataChars, int batchSize) {
        List<Long> seqs = new ArrayList<>();
        String data = "x".repeat(dataChars);
        for (int sent = 0; sent < n; sent += batchSize) {
            List<String> batch = new ArrayList<>();
            for (int i = sent; i < Math.min(n, sent + batchSize); i++) {
                batch.add("{\"type\":\"t\",\"data\":{\"i\":" + i + ",\"pad\":\"" + data + "\"}}");
            }
            seqs.addAll(platform.publishBatch(0, publisher, topic, batch));
        }
        return seqs;
    }

    private static List<Long> eventSeqs(List<JsonNode> frames) {
        return TestPlatform.eventSeqs(frames);
    }

    private static List<Long> range(long fromExclusive, long toInclusive) {
        return TestPlatform.seqsAfter(fromExclusive, toInclusive);
    }

    // ---- auth ----

    @Test
    void firstFrameMustBeConnect() {
        try (WsClient ws = WsClient.open(platform.gatewayUrl(0))) {
            ws.send(Map.of("op", "subscribe", "topic", "chat.a"));
            assertThat(ws.nextOp("error").path("code").asString()).isEqualTo("unauthenticated");
            assertThat(ws.awaitClose()).isEqualTo(4001);
        }
    }

    @Test
    void badTokensAreRefusedWith4001SayingWhatWasWrong() {
        Instant later = Instant.now().plusSeconds(600);
        List<String> all = List.of(">");
        Map<String, String> tokens = new java.util.LinkedHashMap<>();
        tokens.put(WsClient.jwt("a-completely-different-secret-of-enough-length", "wsacme", later, all, all),
                "The token's signature does not verify with its tenant's client secret.");
        tokens.put(WsClient.jwt(secret, "wsacme", Instant.ofEpochSecond(1_700_000_000L), all, all),
                "The token expired at 2023-11-14T22:13:20Z.");
        tokens.put(WsClient.jwt(otherSecret, "wsacme", later, all, all),
                "The token's signature does not verify with its tenant's client secret.");
        tokens.put(WsClient.jwt(secret, "nosuchtenant", later, all, all), "The token's tenant (tid) is unknown.");
        tokens.put(WsClient.jwt(secret, "wsacme", null, all, all), "The token has no exp (expiry) claim.");
        tokens.put(WsClient.jwt(secret, null, later, all, all), "The token has no tid (tenant) claim.");
        tokens.put(new com.nimbusds.jwt.PlainJWT(new com.nimbusds.jwt.JWTClaimsSet.Builder().claim("tid", "wsacme")
                        .expirationTime(java.util.Date.from(later)).build()).serialize(),
                "The token is unsigned (alg none); it must be signed with HS256.");
        tokens.put(publisher.key(), "An API key (sb_…) is not accepted here; a socket connects with a client JWT.");
        tokens.put("not-a-jwt", "The token is not a JWT.");
        // One signature has one spelling: the spare low bits of its last base64url character must be zero.
        String valid = WsClient.jwt(secret, "wsacme", later, all, all);
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        char last = valid.charAt(valid.length() - 1);
        tokens.put(valid.substring(0, valid.length() - 1) + alphabet.charAt(alphabet.indexOf(last) ^ 1),
                "The token is not a JWT: each part must be canonical base64url (no padding, no stray bits).");
        int inSignature = valid.lastIndexOf('.') + 5;
        for (String stray : List.of("*", "\"", "\\", "==", "\u0000")) {
            tokens.put(valid + stray, "The token is not a JWT.");
        }
        tokens.put(valid.substring(0, inSignature) + "*" + valid.substring(inSignature), "The token is not a JWT.");
        tokens.forEach((token, reason) -> {
            try (WsClient ws = WsClient.open(platform.gatewayUrl(0))) {
                long id = ws.send(Map.of("op", "connect", "token", token));
                JsonNode error = ws.nextOp("error");
                assertThat(error.path("code").asString()).as(token).isEqualTo("unauthenticated");
                assertThat(error.path("message").asString()).as(token)
                        .isEqualTo(reason + " Accepted: an HS256 client JWT with tid and exp.");
                assertThat(error.path("id").asLong()).isEqualTo(id);
                assertThat(ws.awaitClose()).as(token).isEqualTo(4001);
            }
        });
    }

    @Test
    void noConnectWithinTheDeadlineCloses4001() {
        try (WsClient ws = WsClient.open(platform.gatewayUrl(0))) {
            long started = System.nanoTime();
            assertThat(ws.nextOp("error").path("code").asString()).isEqualTo("unauthenticated");
            assertThat(ws.awaitClose()).isEqualTo(4001);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isBetween(Duration.ofMillis(1500), Duration.ofSeconds(6));
        }
    }

    @Test
    void claimsDecideTopicsAndTheConnectionStays() {
        try (WsClient ws = connected(0, List.of("chat.*"))) {
            long sub = ws.send(Map.of("op", "subscribe", "topic", "feed.x"));
            JsonNode error = ws.nextOp("error");
            assertThat(error.path("code").asString()).isEqualTo("forbidden");
            assertThat(error.path("id").asLong()).isEqualTo(sub);
            long pub = ws.send(Map.of("op", "publish", "topic", "feed.x", "event", Map.of("type", "t")));
            error = ws.nextOp("error");
            assertThat(error.path("code").asString()).isEqualTo("forbidden");
            assertThat(error.path("id").asLong()).isEqualTo(pub);
            long ping = ws.send(Map.of("op", "ping"));
            assertThat(ws.nextOp("pong").path("id").asLong()).isEqualTo(ping);
            ws.subscribe("chat.allowed", null);
        }
    }

    // ---- round trip ----

    @Test
    void subscribePublishRoundTrip() {
        try (WsClient a = connected(0, List.of("chat.*")); WsClient b = connected(1, List.of("chat.*"))) {
            JsonNode subscribed = a.subscribe("chat.round", null);
            assertThat(subscribed.path("head").isIntegralNumber()).isTrue();
            b.subscribe("chat.round", null);
            long id = a.send(Map.of("op", "publish", "topic", "chat.round",
                    "event", Map.of("id", "rt-1", "type", "chat.message", "data", Map.of("text", "hi", "pi", 3.14159265358979323846))));
            // The event may overtake the reply to the publish.
            List<JsonNode> untilPublished = a.until(f -> f.path("op").asString().equals("published"), WsClient.WAIT);
            JsonNode published = untilPublished.get(untilPublished.size() - 1);
            assertThat(published.path("id").asLong()).isEqualTo(id);
            assertThat(published.path("duplicate").asBoolean()).isFalse();
            long seq = published.path("seq").asLong();
            assertThat(seq).isEqualTo(subscribed.path("head").asLong() + 1);
            for (WsClient ws : List.of(a, b)) {
                JsonNode event = ws == a && untilPublished.size() > 1 ? untilPublished.get(0) : ws.nextOp("event");
                assertThat(event.path("topic").asString()).isEqualTo("chat.round");
                assertThat(event.path("event").path("id").asString()).isEqualTo("rt-1");
                assertThat(event.path("event").path("seq").asLong()).isEqualTo(seq);
                assertThat(event.path("event").path("data").path("text").asString()).isEqualTo("hi");
            }
            a.send(Map.of("op", "publish", "topic", "chat.round", "event", Map.of("id", "rt-1", "type", "chat.message")));
            JsonNode duplicate = a.nextOp("published");
            assertThat(duplicate.path("duplicate").asBoolean()).isTrue();
            assertThat(duplicate.path("seq").asLong()).isEqualTo(seq);
            long unsub = a.send(Map.of("op", "unsubscribe", "topic", "chat.round"));
            assertThat(a.nextOp("unsubscribed").path("id").asLong()).isEqualTo(unsub);
        }
    }

    /** Every stage of the live path has its timer, in the service that runs it (see LiveStages). */
    @Test
    void everyStageOfTheLivePathIsTimed() throws InterruptedException {
        List<String> gatewayStages = List.of("gateway.frame", "gateway.publish", "gateway.upstream", "gateway.write");
        // The gateway's one stream of the topic takes what this delivery instance commits straight from
        // the commit (delivery.handoff); delivery.read is the fallback, when it had to read the log.
        List<String> deliveryStages = List.of("delivery.queue", "delivery.commit", "delivery.notify", "delivery.handoff");
        Map<String, Double> before = stageCounts(platform.gatewayUrl(0), gatewayStages);
        before.putAll(stageCounts(platform.deliveryUrl(), deliveryStages));
        try (WsClient a = connected(0, List.of("chat.*"))) {
            a.subscribe("chat.timed", null);
            List<JsonNode> frames = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                a.send(Map.of("op", "publish", "topic", "chat.timed", "event", Map.of("id", "timed-" + i, "type", "chat.message")));
                frames.addAll(a.until(f -> f.path("op").asString().equals("published"), WsClient.WAIT));
            }
            // An event may overtake the reply to its publish.
            if (frames.stream().noneMatch(f -> f.path("event").path("id").asString().equals("timed-2"))) {
                frames.addAll(a.until(f -> f.path("event").path("id").asString().equals("timed-2"), WsClient.WAIT));
            }
            assertThat(frames).filteredOn(f -> f.path("op").asString().equals("event"))
                    .extracting(f -> f.path("event").path("id").asString()).containsExactly("timed-0", "timed-1", "timed-2");
        }
        Map<String, Double> after = Map.of();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            after = stageCounts(platform.gatewayUrl(0), gatewayStages);
            after.putAll(stageCounts(platform.deliveryUrl(), deliveryStages));
            Map<String, Double> now = after;
            if (before.keySet().stream().allMatch(stage -> now.get(stage) > before.get(stage))) {
                break;
            }
            Thread.sleep(100);
        }
        for (String stage : before.keySet()) {
            assertThat(after.get(stage)).as("events timed in stage %s", stage).isGreaterThan(before.get(stage));
        }
    }

    /** The count of each stage's {@code switchboard.live.stage} timer on a service's Prometheus page (0 when absent). */
    private static Map<String, Double> stageCounts(String baseUrl, List<String> stages) {
        String page = WebTestClient.bindToServer().baseUrl(baseUrl).build().get().uri("/actuator/prometheus").exchange()
                .expectStatus().isOk().expectBody(String.class).returnResult().getResponseBody();
        Map<String, Double> counts = new java.util.HashMap<>();
        for (String stage : stages) {
            counts.put(stage, page.lines().filter(l -> l.startsWith("switchboard_live_stage_seconds_count{") && l.contains("stage=\"" + stage + "\""))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum());
        }
        return counts;
    }

    @Test
    void afterZeroReplaysEverythingRetainedThenGoesLive() {
        List<Long> before = publish("feed.replay", 30, 10);
        try (WsClient ws = connected(0, List.of("feed.*"))) {
            JsonNode subscribed = ws.subscribe("feed.replay", 0);
            assertThat(subscribed.path("head").asLong()).isEqualTo(before.get(before.size() - 1));
            List<Long> after = publish("feed.replay", 20, 10);
            long last = after.get(after.size() - 1);
            List<JsonNode> frames = ws.until(f -> f.path("event").path("seq").asLong() == last, WsClient.WAIT);
            assertThat(eventSeqs(frames)).containsExactlyElementsOf(range(0, last));
        }
    }

    @Test
    void aDeadLetterTopicNothingDeclaresIsSubscribedLikeItsParent() {
        // feed.* matches feed.orders, not feed.orders.dlq: the dead-letter topic lives by its parent's declaration.
        List<Long> seqs = publish("feed.orders.dlq", 3, 10);
        try (WsClient ws = connected(0, List.of("feed.>", "undeclared.>"))) {
            JsonNode subscribed = ws.subscribe("feed.orders.dlq", 0);
            assertThat(subscribed.path("head").asLong()).isEqualTo(seqs.get(2));
            List<JsonNode> frames = ws.until(f -> f.path("event").path("seq").asLong() == seqs.get(2), WsClient.WAIT);
            assertThat(eventSeqs(frames)).containsExactlyElementsOf(seqs);
            // Without a parent there is no dead-letter topic either.
            long id = ws.send(Map.of("op", "subscribe", "topic", "undeclared.orders.dlq"));
            JsonNode refused = ws.nextOp("error");
            assertThat(refused.path("id").asLong()).isEqualTo(id);
            assertThat(refused.path("code").asString()).isEqualTo("topic_not_found");
        }
    }

    // ---- fan-out, resume, hand-over ----

    @Test
    void oneUpstreamPerTopicPerInstance() {
        Fanout fanout = platform.gateway(0).getBean(Fanout.class);
        List<WsClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                WsClient ws = connected(0, List.of("chat.*"));
                ws.subscribe("chat.shared", null);
                ws.subscribe("chat.shared-" + i, null);
                clients.add(ws);
            }
            // chat.shared once + chat.shared-0..2: 4 upstreams for 6 subscriptions, whatever else lingers.
            assertThat(fanout.upstreams("wsacme")).contains("chat.shared", "chat.shared-0", "chat.shared-1", "chat.shared-2");
            assertThat(fanout.subscriberCount("wsacme", "chat.shared")).isEqualTo(3);
            List<Long> seqs = publish("chat.shared", 5, 10);
            for (WsClient ws : clients) {
                List<JsonNode> frames = ws.until(f -> f.path("event").path("seq").asLong() == seqs.get(4), WsClient.WAIT);
                assertThat(eventSeqs(frames)).containsExactlyElementsOf(seqs);
            }
        } finally {
            clients.forEach(WsClient::close);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        // Each upstream lingers on its own timer: wait for both, not only the first to go.
        while ((fanout.upstreams("wsacme").contains("chat.shared") || fanout.upstreams("wsacme").contains("chat.shared-0"))
                && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(fanout.upstreams("wsacme")).doesNotContain("chat.shared", "chat.shared-0");
    }

    /**
     * A client is dropped again and again while events are published without pause; it comes back
     * each time on the other gateway with {@code after} = the last seq it saw, joining a shared
     * stream that an anchor client keeps open (so it replays privately and hands over). Across
     * all its connections it sees every event exactly once, in order; so do the anchors.
     */
    @Test
    void resumeAfterDropsToEitherInstanceHasNoGapAndNoDuplicate() throws Exception {
        String topic = "feed.resume";
        int total = 600;
        try (WsClient anchor0 = connected(0, List.of("feed.*")); WsClient anchor1 = connected(1, List.of("feed.*"))) {
            long head = anchor0.subscribe(topic, null).path("head").asLong();
            anchor1.subscribe(topic, head);
            CompletableFuture<List<Long>> published = CompletableFuture.supplyAsync(() -> {
                List<Long> seqs = new ArrayList<>();
                for (int i = 0; i < total / 10; i++) {
                    seqs.addAll(publish(topic, 10, 200));
                }
                return seqs;
            });
            long last = head;
            List<Long> seen = new ArrayList<>();
            int gateway = 0;
            for (int round = 0; round < 8 && last < head + total; round++) {
                try (WsClient ws = connected(gateway, List.of("feed.*"))) {
                    ws.subscribe(topic, last);
                    int take = 40 + round * 7;
                    for (int i = 0; i < take && last < head + total; i++) {
                        JsonNode event = ws.nextOp("event");
                        last = event.path("event").path("seq").asLong();
                        seen.add(last);
                    }
                    ws.drop();
                }
                gateway = 1 - gateway;
            }
            try (WsClient ws = connected(gateway, List.of("feed.*"))) {
                ws.subscribe(topic, last);
                while (last < head + total) {
                    last = ws.nextOp("event").path("event").path("seq").asLong();
                    seen.add(last);
                }
            }
            assertThat(published.get(60, TimeUnit.SECONDS)).containsExactlyElementsOf(range(head, head + total));
            assertThat(seen).containsExactlyElementsOf(range(head, head + total));
            long end = head + total;
            for (WsClient anchor : List.of(anchor0, anchor1)) {
                List<JsonNode> frames = anchor.until(f -> f.path("event").path("seq").asLong() == end, WsClient.WAIT);
                assertThat(eventSeqs(frames)).containsExactlyElementsOf(range(head, end));
            }
        }
    }

    @Test
    void multiPartitionTopicsResumeByVector() {
        String topic = "multi.orders";
        try (WsClient ws = connected(0, List.of("multi.*"))) {
            JsonNode subscribed = ws.subscribe(topic, null);
            assertThat(subscribed.path("head").isObject()).isTrue();
            assertThat(subscribed.path("head").size()).isEqualTo(3);
            publish(topic, 30, 10);
            List<JsonNode> frames = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                frames.add(ws.nextOp("event"));
            }
            // Each partition gap-free, in order; then resume from a vector in the middle.
            Map<Integer, List<Long>> byPartition = new java.util.TreeMap<>();
            frames.forEach(f -> byPartition.computeIfAbsent(f.path("event").path("partition").asInt(), p -> new ArrayList<>())
                    .add(f.path("event").path("seq").asLong()));
            byPartition.forEach((p, seqs) -> assertThat(seqs).containsExactlyElementsOf(range(seqs.get(0) - 1, seqs.get(seqs.size() - 1))));
            Map<String, Object> after = new java.util.TreeMap<>();
            byPartition.forEach((p, seqs) -> after.put(Integer.toString(p), seqs.get(0)));
            try (WsClient again = connected(1, List.of("multi.*"))) {
                again.subscribe(topic, after);
                int expected = frames.size() - byPartition.size();
                List<JsonNode> replayed = new ArrayList<>();
                for (int i = 0; i < expected; i++) {
                    replayed.add(again.nextOp("event"));
                }
                Map<Integer, List<Long>> replayedBy = new java.util.TreeMap<>();
                replayed.forEach(f -> replayedBy.computeIfAbsent(f.path("event").path("partition").asInt(), p -> new ArrayList<>())
                        .add(f.path("event").path("seq").asLong()));
                byPartition.forEach((p, seqs) -> assertThat(replayedBy.getOrDefault(p, List.of())).containsExactlyElementsOf(seqs.subList(1, seqs.size())));
            }
        }
    }

    // ---- backpressure ----

    /**
     * A client that stops reading is cut with {@code reconnect} (lagging, its resume point) and
     * close 4008; a fast client on the same topic and gateway gets every event meanwhile. The slow
     * client then sees, in order, exactly the events up to its resume point and resumes from there.
     */
    @Test
    void aSlowClientIsCutWithoutSlowingTheOthers() throws Exception {
        String topic = "firehose.a";
        int total = 400;
        try (WsClient fast = connected(0, List.of("firehose.*")); WsClient slow = WsClient.smallBuffer(platform.gatewayUrl(0))) {
            slow.connect(token(List.of("firehose.*")));
            long head = fast.subscribe(topic, null).path("head").asLong();
            slow.subscribe(topic, null);
            slow.pause();
            io.micrometer.core.instrument.Counter lagging = platform.gateway(0).getBean(io.micrometer.core.instrument.MeterRegistry.class)
                    .counter("switchboard.gateway.ws.lagging.disconnects", "tenant", "wsacme");
            double cutsBefore = lagging.count();
            // 12 MB in small batches: more than loopback TCP buffers absorb; the fast client's queue holds a burst.
            CompletableFuture<List<Long>> published = CompletableFuture.supplyAsync(() -> publish(topic, total, 30_000, 2));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            // Cut when its queue overflows, or at the idle check if it has not read (nor ponged) for idle-timeout.
            while (lagging.count() == cutsBefore && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertThat(lagging.count()).as("lagging disconnects").isEqualTo(cutsBefore + 1);
            // Read again before closeTimeout cuts the TCP connection (a reset would discard what the client has not read).
            slow.unpause();
            List<JsonNode> slowFrames = slow.until(f -> f.path("op").asString().equals("reconnect"), WsClient.WAIT);
            JsonNode reconnect = slowFrames.get(slowFrames.size() - 1);
            assertThat(reconnect.path("reason").asString()).isEqualTo("lagging");
            long resume = reconnect.path("resume").path(topic).asLong();
            List<Long> slowSeqs = eventSeqs(slowFrames);
            assertThat(slowSeqs).containsExactlyElementsOf(range(head, resume));
            assertThat(resume).isLessThan(head + total);
            assertThat(slow.awaitClose()).isEqualTo(4008);

            List<Long> seqs = published.get(60, TimeUnit.SECONDS);
            assertThat(seqs).containsExactlyElementsOf(range(head, head + total));
            List<JsonNode> fastFrames = fast.until(f -> f.path("event").path("seq").asLong() == head + total, WsClient.WAIT);
            assertThat(eventSeqs(fastFrames)).containsExactlyElementsOf(seqs);
            try (WsClient again = connected(1, List.of("firehose.*"))) {
                again.subscribe(topic, resume);
                List<JsonNode> rest = again.until(f -> f.path("event").path("seq").asLong() == head + total, WsClient.WAIT);
                assertThat(eventSeqs(rest)).containsExactlyElementsOf(range(resume, head + total));
            }
        }
    }

    // ---- hardening ----

    @Test
    void malformedFramesGetErrorsAndTheConnectionStays() {
        try (WsClient ws = connected(0, List.of("chat.*"))) {
            ws.sendRaw("not json at all");
            assertThat(ws.nextOp("error").path("code").asString()).isEqualTo("invalid_request");
            ws.sendRaw("{\"op\":\"teleport\",\"id\":7}");
            JsonNode unknown = ws.nextOp("error");
            assertThat(unknown.path("code").asString()).isEqualTo("invalid_request");
            assertThat(unknown.path("id").asLong()).isEqualTo(7);
            ws.sendRaw("{\"op\":\"subscribe\",\"id\":8}");
            assertThat(ws.nextOp("error").path("id").asLong()).isEqualTo(8);
            ws.sendRaw("{\"op\":\"subscribe\",\"id\":9,\"topic\":\"chat.x\",\"after\":\"soon\"}");
            assertThat(ws.nextOp("error").path("id").asLong()).isEqualTo(9);
            ws.sendRaw("{\"op\":\"publish\",\"id\":10,\"topic\":\"chat.x\",\"event\":[1,2]}");
            assertThat(ws.nextOp("error").path("id").asLong()).isEqualTo(10);
            ws.sendRaw("{\"op\":\"subscribe\",\"id\":11,\"topic\":\"Chat..X\"}");
            assertThat(ws.nextOp("error").path("id").asLong()).isEqualTo(11);
            ws.sendRaw("{\"op\":\"unsubscribe\",\"id\":12,\"topic\":\"chat.never\"}");
            assertThat(ws.nextOp("error").path("code").asString()).isEqualTo("not_found");
            ws.sendRaw("{\"op\":\"ping\",\"id\":13}");
            assertThat(ws.nextOp("pong").path("id").asLong()).isEqualTo(13);
        }
    }

    /**
     * Frames over max-frame-bytes (16 KiB here) close with 4009 after an {@code error
     * payload_too_large}, whatever their size — 20 kB, or 2 MiB, far past what the server would
     * buffer — and however fragmented; the other sockets of the gateway carry on.
     */
    /** RFC 6455 §5.2 and §8.1: reserved bits with no extension close 1002; a text message that is not UTF-8 closes 1007 (#16). */
    @Test
    void framesBreakingTheProtocolClose1002And1007() {
        byte[][] notUtf8 = {{(byte) 0xC0, (byte) 0xAF}, {'{', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '}'}, {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}};
        for (byte[] bytes : notUtf8) {
            try (WsClient ws = connected(0, List.of("chat.*")); WsClient bystander = connected(0, List.of("chat.*"))) {
                ws.sendFrame(new io.netty.handler.codec.http.websocketx.TextWebSocketFrame(true, 0, io.netty.buffer.Unpooled.wrappedBuffer(bytes)));
                assertThat(ws.nextOp("error").path("message").asString()).contains("not valid UTF-8");
                assertThat(ws.awaitClose()).isEqualTo(1007);
                long ping = bystander.send(Map.of("op", "ping"));
                assertThat(bystander.next(f -> f.path("id").asLong(-1) == ping).path("op").asString()).isEqualTo("pong");
            }
        }
        try (WsClient ws = connected(0, List.of("chat.*"))) {
            ws.sendFrame(new io.netty.handler.codec.http.websocketx.TextWebSocketFrame(true, 4,
                    io.netty.buffer.Unpooled.copiedBuffer("{\"op\":\"ping\",\"id\":9}", StandardCharsets.UTF_8)));
            List<JsonNode> frames = ws.until(f -> f.path("op").asString().equals("error"), WsClient.WAIT);
            assertThat(frames).noneMatch(f -> f.path("op").asString().equals("pong"));
            assertThat(ws.awaitClose()).isEqualTo(1002);
        }
    }

    @Test
    void oversizedFramesClose4009() {
        String small = publishFrame(20_000);
        String huge = publishFrame(2 * 1024 * 1024);
        List<java.util.function.Consumer<WsClient>> senders = List.of(
                ws -> ws.sendRaw(small),
                ws -> ws.sendRaw(huge),
                ws -> ws.sendFragmented(small, 4),
                ws -> ws.sendFragmented(huge, 256),
                ws -> ws.sendFragmented(huge, 2));
        try (WsClient bystander = connected(0, List.of("chat.*"))) {
            bystander.subscribe("chat.bystander", null);
            for (int i = 0; i < senders.size(); i++) {
                try (WsClient ws = connected(0, List.of("chat.*"))) {
                    senders.get(i).accept(ws);
                    JsonNode error = ws.nextOp("error");
                    assertThat(error.path("code").asString()).as("case %d", i).isEqualTo("payload_too_large");
                    assertThat(error.path("message").asString()).as("case %d", i).isEqualTo("A frame may have at most 16384 bytes.");
                    assertThat(ws.awaitClose()).as("case %d", i).isEqualTo(4009);
                }
                long ping = bystander.send(Map.of("op", "ping"));
                assertThat(bystander.next(f -> f.path("id").asLong(-1) == ping).path("op").asString()).isEqualTo("pong");
            }
            long seq = publish("chat.bystander", 1, 10).get(0);
            assertThat(bystander.nextOp("event").path("event").path("seq").asLong()).isEqualTo(seq);
            assertThat(bystander.closeCode).isNotDone();
        }
    }

    private static String publishFrame(int dataChars) {
        return "{\"op\":\"publish\",\"id\":1,\"topic\":\"chat.big\",\"event\":{\"type\":\"t\",\"data\":\""
                + "y".repeat(dataChars) + "\"}}";
    }

    @Test
    void serverPingsAndIdleTimeout() {
        try (WsClient ws = WsClient.silent(platform.gatewayUrl(0))) {
            ws.connect(token(List.of("chat.*")));
            assertThat(ws.awaitClose(Duration.ofSeconds(30))).isEqualTo(1001);
            assertThat(ws.pings.get()).isGreaterThanOrEqualTo(3);
        }
        try (WsClient ws = connected(0, List.of("chat.*"))) {
            // A client that answers pings (Reactor Netty does by itself) stays up.
            long deadline = System.nanoTime() + Duration.ofSeconds(4).toNanos();
            while (System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            ws.send(Map.of("op", "ping"));
            assertThat(ws.nextOp("pong")).isNotNull();
        }
    }

    @Test
    void originsOutsideTheAllowListAreRefused() {
        try (WsClient evil = WsClient.open(platform.gatewayUrl(0), "https://evil.example")) {
            assertThat(evil.awaitClose()).isEqualTo(-2);
            assertThat(evil.failure.getNow(null)).isNotNull();
            assertThat(evil.failure.getNow(null).toString()).contains("403");
        }
        try (WsClient allowed = WsClient.open(platform.gatewayUrl(0), "https://app.example.com")) {
            allowed.connect(token(List.of("chat.*")));
        }
        String self = platform.gatewayUrl(0);
        try (WsClient same = WsClient.open(self, self)) {
            same.connect(token(List.of("chat.*")));
        }
    }

    @Test
    void theConnectionQuotaHoldsAcrossGateways() throws Exception {
        String tiny = WsClient.jwt(tinySecret, "wstiny", List.of("t.*"));
        Thread.sleep(1000); // earlier tests' sockets of this tenant have been reported gone
        try (WsClient a = WsClient.open(platform.gatewayUrl(0)).connect(tiny)) {
            try (WsClient b = WsClient.open(platform.gatewayUrl(1)).connect(tiny);
                 WsClient c = WsClient.open(platform.gatewayUrl(0))) {
                Thread.sleep(1000); // > 3 report intervals: each gateway knows the other's socket
                c.send(Map.of("op", "connect", "token", tiny));
                JsonNode error = c.nextOp("error");
                assertThat(error.path("code").asString()).isEqualTo("rate_limited");
                assertThat(c.awaitClose()).isEqualTo(4029);
                assertThat(b.closeCode).isNotDone();
            }
            Thread.sleep(1000); // b's gateway reports it gone
            try (WsClient d = WsClient.open(platform.gatewayUrl(2)).connect(tiny)) {
                long ping = d.send(Map.of("op", "ping"));
                assertThat(d.next(f -> f.path("id").asLong(-1) == ping).path("op").asString()).isEqualTo("pong");
            }
        }
    }

    @Test
    void quotasOfTheTenant() {
        String tiny = WsClient.jwt(tinySecret, "wstiny", List.of("t.*"));
        try (WsClient a = WsClient.open(platform.gatewayUrl(0)).connect(tiny);
             WsClient b = WsClient.open(platform.gatewayUrl(0)).connect(tiny);
             WsClient c = WsClient.open(platform.gatewayUrl(0))) {
            a.subscribe("t.one", null);
            a.subscribe("t.two", null);
            long id = a.send(Map.of("op", "subscribe", "topic", "t.three"));
            JsonNode error = a.nextOp("error");
            assertThat(error.path("code").asString()).isEqualTo("rate_limited");
            assertThat(error.path("id").asLong()).isEqualTo(id);
            a.send(Map.of("op", "unsubscribe", "topic", "t.one"));
            a.nextOp("unsubscribed");
            a.subscribe("t.three", null);

            c.send(Map.of("op", "connect", "token", tiny));
            assertThat(c.nextOp("error").path("code").asString()).isEqualTo("rate_limited");
            assertThat(c.awaitClose()).isEqualTo(4029);
            assertThat(b).isNotNull();
        }
    }

    // ---- consumer-lag backpressure ----

    @Test
    void aPublishFrameOverTheTopicsConsumerLagGetsSlowDownAndAnErrorAndStoresNothingUntilTheGroupCatchesUp() {
        platform.declareTopic("wsacme", "lagged.*", Map.of("maxLag", 2, "lagPolicy", "throttle"));
        org.springframework.test.web.reactive.server.WebTestClient rest = platform.gatewayClient(0);
        // A group that takes nothing, then three events: lag 3 over maxLag 2.
        JsonNode none = rest.post().uri("/v1/topics/lagged.ws/groups/slow/poll").header("Authorization", publisher.bearer())
                .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"max\":1}")
                .exchange().expectStatus().isOk().expectBody(JsonNode.class).returnResult().getResponseBody();
        assertThat(none.get("events").size()).isZero();
        publish("lagged.ws", 3, 1);

        // Delivery sees the lag within its refresh interval (1 s); REST publishes that land before it add to the lag.
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        org.springframework.test.web.reactive.server.EntityExchangeResult<JsonNode> refused;
        do {
            refused = rest.post().uri("/v1/topics/lagged.ws/events").header("Authorization", publisher.bearer())
                    .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"type\":\"t\"}")
                    .exchange().expectBody(JsonNode.class).returnResult();
        } while (refused.getStatus().value() == 201 && System.nanoTime() < deadline);
        assertThat(refused.getStatus().value()).as("%s", refused.getResponseBody()).isEqualTo(429);
        assertThat(refused.getResponseBody().path("code").asString()).isEqualTo("slow_down");
        assertThat(refused.getResponseHeaders().getFirst("Retry-After")).isNotNull();
        long head = head("lagged.ws");

        try (WsClient ws = connected(0, List.of("lagged.*"))) {
            long id = ws.send(Map.of("op", "publish", "topic", "lagged.ws", "event", Map.of("type", "t", "data", 1)));
            JsonNode slowDown = ws.nextOp("slow_down");
            assertThat(slowDown.path("topic").asString()).isEqualTo("lagged.ws");
            // 1 s at the limit, growing with the excess (lag at least 3 over maxLag 2: at least 15.5 s).
            assertThat(slowDown.path("retryAfterMs").asLong()).isBetween(15_500L, 30_000L);
            JsonNode error = ws.nextOp("error");
            assertThat(error.path("id").asLong()).isEqualTo(id);
            assertThat(error.path("code").asString()).isEqualTo("slow_down");
            assertThat(head("lagged.ws")).isEqualTo(head);

            // The group catches up (every event in one poll: the REST publishes above may have added hundreds):
            // within a refresh the same frame is published again.
            JsonNode leased = rest.post().uri("/v1/topics/lagged.ws/groups/slow/poll").header("Authorization", publisher.bearer())
                    .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"max\":1000}")
                    .exchange().expectStatus().isOk().expectBody(JsonNode.class).returnResult().getResponseBody();
            List<Long> seqs = new ArrayList<>();
            leased.get("events").forEach(e -> seqs.add(e.get("seq").asLong()));
            assertThat(seqs).hasSize((int) head);
            rest.post().uri("/v1/topics/lagged.ws/groups/slow/ack").header("Authorization", publisher.bearer())
                    .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"seqs\":" + seqs + "}")
                    .exchange().expectStatus().isOk().expectBody().returnResult();
            JsonNode reply;
            long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            do {
                long again = ws.send(Map.of("op", "publish", "topic", "lagged.ws", "event", Map.of("type", "t", "data", 2)));
                List<JsonNode> frames = ws.until(f -> f.path("id").asLong(-1) == again, WsClient.WAIT);
                reply = frames.get(frames.size() - 1);
            } while (!reply.path("op").asString().equals("published") && System.nanoTime() < until);
            assertThat(reply.path("op").asString()).as("%s", reply).isEqualTo("published");
            assertThat(reply.path("seq").asLong()).isEqualTo(head + 1);
        }
    }

    private static long head(String topic) {
        return platform.gatewayClient(0).get().uri("/v1/topics/{t}/events?after=0&limit=1", topic)
                .header("Authorization", publisher.bearer())
                .exchange().expectStatus().isOk().expectBody(JsonNode.class).returnResult().getResponseBody()
                .get("head").asLong();
    }

    // ---- shutdown (gateway 2 goes away: keep this the only test that uses it) ----

    /**
     * Last: closing an application context disposes Reactor Netty's global (JVM-wide) resources,
     * which the other applications of this test JVM share.
     */
    @Test
    @Order(Integer.MAX_VALUE)
    void gracefulShutdownSendsReconnectAnd1012() throws Exception {
        String topic = "down.a";
        try (WsClient ws = WsClient.open(platform.gatewayUrl(2)).connect(token(List.of("down.*")))) {
            long head = ws.subscribe(topic, null).path("head").asLong();
            List<Long> seqs = publish(topic, 5, 10);
            List<JsonNode> frames = ws.until(f -> f.path("event").path("seq").asLong() == seqs.get(4), WsClient.WAIT);
            assertThat(eventSeqs(frames)).containsExactlyElementsOf(range(head, head + 5));
            CompletableFuture<Void> closing = CompletableFuture.runAsync(() -> platform.gateway(2).close());
            JsonNode reconnect = ws.nextOp("reconnect");
            assertThat(reconnect.path("reason").asString()).isEqualTo("shutdown");
            assertThat(reconnect.path("delayMs").asLong()).isBetween(0L, 2000L);
            assertThat(reconnect.path("resume").path(topic).asLong()).isEqualTo(head + 5);
            assertThat(ws.awaitClose()).isEqualTo(1012);
            closing.get(30, TimeUnit.SECONDS);
        }
    }
}
