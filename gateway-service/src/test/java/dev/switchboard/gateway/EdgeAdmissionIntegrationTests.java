package dev.switchboard.gateway;

import dev.switchboard.gateway.admission.EdgeAdmission;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import tools.jackson.databind.JsonNode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.switchboard.gateway.TestPlatform.eventSeqs;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Edge admission (issue #11, "a refusal must be cheap"): a tenant over its publish quota or over
 * its concurrent requests is turned away by the gateway before its body is read or anything is
 * forwarded, and one tenant's flood leaves another tenant's publishes untouched.
 */
class EdgeAdmissionIntegrationTests {

    private static final int MAX_INFLIGHT = 3;
    /** Twice the in-flight places: the live-read test fills exactly these. */
    private static final int MAX_LIVE_READS = 2 * MAX_INFLIGHT;

    private static TestPlatform platform;

    @BeforeAll
    static void start() {
        platform = TestPlatform.start(1, "--switchboard.gateway.admission.max-inflight-requests=" + MAX_INFLIGHT,
                "--switchboard.gateway.admission.max-live-stream-reads=" + MAX_LIVE_READS);
        platform.startGateway(); // gateway 1: the default concurrency bound, for the flood
    }

    @AfterAll
    static void stop() {
        if (platform != null) {
            platform.close();
        }
    }

    private static TestPlatform.Key tenant(String id, int perSecond, int burst) {
        platform.createTenant(id);
        platform.declareTopic(id, "t.*", Map.of());
        if (perSecond > 0) {
            platform.setPublishQuota(id, perSecond, burst);
        }
        return platform.createKey(id, "publish", "subscribe");
    }

    private static EntityExchangeResult<JsonNode> publish(TestPlatform.Key key, String topic, String body) {
        return platform.gatewayClient(0).post().uri("/v1/topics/{t}/events", topic)
                .header("Authorization", key.bearer())
                .contentType(MediaType.APPLICATION_JSON).bodyValue(body)
                .exchange().expectBody(JsonNode.class).returnResult();
    }

    private static double edgeRefused(String tenant, String reason, String transport) {
        return edgeRefused(0, tenant, reason, transport);
    }

    private static double edgeRefused(int gateway, String tenant, String reason, String transport) {
        return platform.gateway(gateway).getBean(MeterRegistry.class).find("switchboard.gateway.edge.refused")
                .tags("tenant", tenant, "reason", reason, "transport", transport).counters().stream().mapToDouble(Counter::count).sum();
    }

    private static double refusedAt(String tenant, String at) {
        return platform.gateway(0).getBean(MeterRegistry.class).find("switchboard.gateway.edge.refused")
                .tags("tenant", tenant, "at", at).counters().stream().mapToDouble(Counter::count).sum();
    }

    private static double deliveryThrottled(String tenant) {
        return platform.delivery().getBean(MeterRegistry.class).find("switchboard.delivery.publish.throttled")
                .tag("tenant", tenant).counters().stream().mapToDouble(Counter::count).sum();
    }

    private static long head(TestPlatform.Key key, String topic) {
        return platform.gatewayClient(0).get().uri("/v1/topics/{t}/events?after=0&limit=1", topic)
                .header("Authorization", key.bearer())
                .exchange().expectStatus().isOk().expectBody(JsonNode.class).returnResult().getResponseBody()
                .get("head").asLong();
    }

    /** Publishes single events until the first refusal (the bucket is empty then); returns how many were taken. */
    private static int drain(TestPlatform.Key key, String topic) {
        for (int i = 0; i < 100; i++) {
            EntityExchangeResult<JsonNode> result = publish(key, topic, "{\"type\":\"t\"}");
            if (result.getStatus().value() == 429) {
                return i;
            }
            assertThat(result.getStatus().value()).as("%s", result.getResponseBody()).isEqualTo(201);
        }
        throw new AssertionError("the bucket never emptied");
    }

    @Test
    void aPublishOverTheTenantsQuotaIsRefusedAtTheEdgeBeforeItsBodyIsReadAndTheBucketRefills() throws Exception {
        TestPlatform.Key key = tenant("edgeslow", 1, 1);
        int taken = drain(key, "t.a");
        assertThat(taken).isBetween(1, 3);

        // 9 MB is over the gateway's 8 MB body limit: read, it would be 413. Refused first, it is 429.
        String huge = "{\"type\":\"t\",\"data\":\"" + "x".repeat(9 * 1024 * 1024) + "\"}";
        EntityExchangeResult<JsonNode> refused = publish(key, "t.a", huge);
        assertThat(refused.getStatus().value()).as("%s", refused.getResponseBody()).isEqualTo(429);
        assertThat(refused.getResponseBody().path("code").asString()).isEqualTo("rate_limited");
        assertThat(refused.getResponseBody().path("detail").asString()).contains("publish quota (1/s, burst 1)");
        assertThat(refused.getResponseHeaders().getFirst("Retry-After")).isEqualTo("1");
        long retryAfterMs = refused.getResponseBody().path("retryAfterMs").asLong();
        assertThat(retryAfterMs).isBetween(1L, 1000L);
        assertThat(edgeRefused("edgeslow", "quota", "http")).isGreaterThanOrEqualTo(2);
        // Nothing of the refused requests reached delivery's buckets.
        assertThat(deliveryThrottled("edgeslow")).isZero();
        assertThat(head(key, "t.a")).isEqualTo(taken);

        // The connection that carried the refused 9 MB is still usable, and the bucket refills at 1/s.
        Thread.sleep(retryAfterMs + 50);
        EntityExchangeResult<JsonNode> again = publish(key, "t.a", "{\"type\":\"t\"}");
        assertThat(again.getStatus().value()).as("%s", again.getResponseBody()).isEqualTo(201);
        assertThat(again.getResponseBody().path("seq").asLong()).isEqualTo(taken + 1);
    }

    /**
     * Once a tenant's key and quotas are cached and its bucket is empty, a publish is answered right
     * after the HTTP decoder: its body dropped, the connection kept, a pipelined request behind it
     * answered next, in order.
     */
    @Test
    void anEmptyBucketIsAnsweredBeforeTheWebStackAndTheConnectionGoesOn() throws Exception {
        TestPlatform.Key key = tenant("edgefast", 1, 1);
        drain(key, "t.f");
        double before = refusedAt("edgefast", "decoder");
        String body = "{\"type\":\"t\",\"data\":\"" + "x".repeat(20_000) + "\"}";
        String publish = "POST /v1/topics/t.f/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + key.bearer()
                + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
        String history = "GET /v1/topics/t.f/events?after=0&limit=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + key.bearer()
                + "\r\nConnection: close\r\n\r\n";
        java.net.URI uri = java.net.URI.create(platform.gatewayUrl(0));
        String answers;
        try (java.net.Socket socket = new java.net.Socket(uri.getHost(), uri.getPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write((publish + history).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            try {
                for (int n; (n = socket.getInputStream().read(buffer)) > 0; ) {
                    got.write(buffer, 0, n);
                }
            } catch (java.net.SocketTimeoutException e) {
                throw new AssertionError("timed out after: " + got.toString(java.nio.charset.StandardCharsets.UTF_8));
            }
            answers = got.toString(java.nio.charset.StandardCharsets.UTF_8);
        }
        int first = answers.indexOf("HTTP/1.1 429");
        int second = answers.indexOf("HTTP/1.1 200");
        assertThat(first).as(answers).isZero();
        assertThat(second).as(answers).isGreaterThan(first);
        assertThat(answers.substring(0, second)).containsIgnoringCase("retry-after: 1").contains("\"code\":\"rate_limited\"")
                .contains("publish quota (1/s, burst 1)");
        assertThat(refusedAt("edgefast", "decoder")).isEqualTo(before + 1);
        assertThat(deliveryThrottled("edgefast")).isZero();
    }

    /**
     * An HTTP/1.0 client (ab, old proxies) keeps a connection only when the response says so: the
     * edge's refusal answers in the request's version with {@code Connection: keep-alive}, and the
     * next request on the connection is answered (before, the client waited for a close that never came).
     */
    @Test
    void anHttp10KeepAliveClientRefusedAtTheEdgeKeepsItsConnection() throws Exception {
        TestPlatform.Key key = tenant("edgehttp10", 1, 1);
        drain(key, "t.h");
        double before = refusedAt("edgehttp10", "decoder");
        String body = "{\"type\":\"t\"}";
        String publish = "POST /v1/topics/t.h/events HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\nAuthorization: " + key.bearer()
                + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
        String history = "GET /v1/topics/t.h/events?after=0&limit=1 HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: " + key.bearer()
                + "\r\n\r\n";
        java.net.URI uri = java.net.URI.create(platform.gatewayUrl(0));
        try (java.net.Socket socket = new java.net.Socket(uri.getHost(), uri.getPort())) {
            socket.setSoTimeout(10_000);
            java.io.InputStream in = socket.getInputStream();
            socket.getOutputStream().write(publish.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            String refusal = readResponse(in);
            assertThat(refusal).startsWith("HTTP/1.0 429").containsIgnoringCase("connection: keep-alive")
                    .contains("\"code\":\"rate_limited\"");
            socket.getOutputStream().write(history.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            assertThat(readResponse(in)).as("the next request on the same connection").startsWith("HTTP/1.0 200");
        }
        assertThat(refusedAt("edgehttp10", "decoder")).isEqualTo(before + 1);
    }

    /** One HTTP response with a Content-Length body, read from {@code in}. */
    private static String readResponse(java.io.InputStream in) throws java.io.IOException {
        java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
        int length = -1;
        int headerEnd = -1;
        while (headerEnd < 0 || got.size() < headerEnd + length) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            got.write(b);
            String text = got.toString(java.nio.charset.StandardCharsets.ISO_8859_1);
            if (headerEnd < 0 && text.endsWith("\r\n\r\n")) {
                headerEnd = text.length();
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(text);
                length = m.find() ? Integer.parseInt(m.group(1)) : 0;
            }
        }
        return got.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void aPublishFrameOverTheQuotaGetsSlowDownThenRateLimitedFromTheEdge() {
        String secret = platform.createTenant("edgews");
        platform.declareTopic("edgews", "t.*", Map.of());
        platform.setPublishQuota("edgews", 1, 1);
        TestPlatform.Key key = platform.createKey("edgews", "subscribe");
        try (WsClient ws = WsClient.open(platform.gatewayUrl(0)).connect(WsClient.jwt(secret, "edgews", List.of("t.*")))) {
            JsonNode reply = null;
            long id = -1;
            for (int i = 0; i < 20; i++) {
                long sent = ws.send(Map.of("op", "publish", "topic", "t.ws", "event", Map.of("type", "t", "data", i)));
                List<JsonNode> frames = ws.until(f -> f.path("id").asLong(-1) == sent, WsClient.WAIT);
                reply = frames.get(frames.size() - 1);
                if (reply.path("op").asString().equals("error")) {
                    id = sent;
                    JsonNode slowDown = frames.stream().filter(f -> f.path("op").asString().equals("slow_down")).findFirst().orElseThrow();
                    assertThat(slowDown.path("topic").asString()).isEqualTo("t.ws");
                    assertThat(slowDown.path("retryAfterMs").asLong()).isBetween(1L, 1000L);
                    break;
                }
                assertThat(reply.path("op").asString()).as("%s", reply).isEqualTo("published");
            }
            assertThat(id).as("a publish frame was refused").isPositive();
            assertThat(reply.path("code").asString()).isEqualTo("rate_limited");
            assertThat(reply.path("message").asString()).contains("publish quota");
        }
        assertThat(edgeRefused("edgews", "quota", "ws")).isGreaterThanOrEqualTo(1);
        assertThat(deliveryThrottled("edgews")).isZero();
        assertThat(head(key, "t.ws")).isBetween(1L, 19L);
    }

    @Test
    void durableStreamsLiveReadsWaitWithoutTakingTheTenantsPlaces() throws Exception {
        TestPlatform.Key key = tenant("edgeds", 0, 0);
        for (String path : List.of("/v1/stream/quiet", "/v1/stream/busy")) {
            platform.gatewayClient(0).put().uri(path).header("Authorization", key.bearer())
                    .contentType(MediaType.APPLICATION_JSON).exchange().expectStatus().isCreated();
        }
        EdgeAdmission admission = platform.gateway(0).getBean(EdgeAdmission.class);
        WebClient client = WebClient.builder().baseUrl(platform.gatewayUrl(0))
                .clientConnector(new ReactorClientHttpConnector(HttpClient.create(ConnectionProvider.newConnection()))).build();
        // Twice the tenant's places in long-polls and SSE readers that wait on a quiet stream, as browsers following it do.
        List<Integer> statuses = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger open = new AtomicInteger();
        reactor.core.Disposable readers = Flux.range(0, MAX_LIVE_READS)
                .flatMap(i -> client.get().uri("/v1/stream/quiet?offset=now&live=" + (i % 2 == 0 ? "long-poll" : "sse"))
                        .header("Authorization", key.bearer())
                        .exchangeToMono(r -> {
                            open.incrementAndGet();
                            return r.releaseBody().thenReturn(r.statusCode().value());
                        }))
                .subscribe(statuses::add);
        // The SSE readers get their headers at once; the long-polls answer only when data comes or they time out (15 s).
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (open.get() < MAX_INFLIGHT && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        Thread.sleep(300);
        assertThat(open.get()).as("SSE readers answered with their headers").isEqualTo(MAX_INFLIGHT);
        assertThat(statuses).doesNotContain(429);
        assertThat(admission.inflight("edgeds")).isZero();
        // Ordinary requests of the tenant are still admitted meanwhile (to another stream: an append to the quiet one
        // would answer the waiting long-polls and free their places before the bound is tried below).
        platform.gatewayClient(0).post().uri("/v1/stream/busy").header("Authorization", key.bearer())
                .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"n\":1}").exchange().expectStatus().isNoContent();
        assertThat(edgeRefused("edgeds", "inflight", "http")).isZero();
        // Live reads have a bound of their own: one more than MAX_LIVE_READS is refused until one ends.
        platform.gatewayClient(0).get().uri("/v1/stream/quiet?offset=now&live=long-poll").header("Authorization", key.bearer())
                .exchange().expectStatus().isEqualTo(429).expectHeader().valueEquals("Retry-After", "1")
                .expectBody().jsonPath("$.code").isEqualTo("rate_limited");
        readers.dispose();
        deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        int status = 0;
        while (System.nanoTime() < deadline && (status = platform.gatewayClient(0).get().uri("/v1/stream/busy?offset=-1&live=long-poll")
                .header("Authorization", key.bearer()).exchange().returnResult(Void.class).getStatus().value()) == 429) {
            Thread.sleep(50);
        }
        assertThat(status).as("a live read once the others ended (data waiting: answered at once)").isEqualTo(200);
    }

    @Test
    void aTenantsConcurrentRequestsAreBoundedAtTheEdgeWhileAnotherTenantsAreServed() throws Exception {
        TestPlatform.Key busy = tenant("edgebusy", 0, 0);
        TestPlatform.Key calm = tenant("edgecalm", 0, 0);
        EdgeAdmission admission = platform.gateway(0).getBean(EdgeAdmission.class);
        WebClient client = WebClient.builder().baseUrl(platform.gatewayUrl(0))
                .clientConnector(new ReactorClientHttpConnector(HttpClient.create(ConnectionProvider.newConnection()))).build();
        // MAX_INFLIGHT long polls on an empty topic hold the tenant's every place for 4 s.
        List<Integer> pollStatuses = Collections.synchronizedList(new ArrayList<>());
        Flux.range(0, MAX_INFLIGHT)
                .flatMap(i -> client.post().uri("/v1/topics/t.empty/groups/g/poll").header("Authorization", busy.bearer())
                        .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"max\":1,\"waitMs\":4000}")
                        .exchangeToMono(r -> r.releaseBody().thenReturn(r.statusCode().value())))
                .subscribe(pollStatuses::add);
        long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        while (admission.inflight("edgebusy") < MAX_INFLIGHT && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(admission.inflight("edgebusy")).isEqualTo(MAX_INFLIGHT);

        EntityExchangeResult<JsonNode> refused = platform.gatewayClient(0).get().uri("/v1/topics/t.empty/events")
                .header("Authorization", busy.bearer()).exchange().expectBody(JsonNode.class).returnResult();
        assertThat(refused.getStatus().value()).as("%s", refused.getResponseBody()).isEqualTo(429);
        assertThat(refused.getResponseBody().path("code").asString()).isEqualTo("rate_limited");
        assertThat(refused.getResponseBody().path("detail").asString()).contains(MAX_INFLIGHT + " requests in progress");
        assertThat(refused.getResponseHeaders().getFirst("Retry-After")).isEqualTo("1");
        assertThat(publish(busy, "t.empty", "{\"type\":\"t\"}").getStatus().value()).isEqualTo(429);
        assertThat(edgeRefused("edgebusy", "inflight", "http")).isEqualTo(2);

        // The other tenant is untouched.
        assertThat(publish(calm, "t.calm", "{\"type\":\"t\"}").getStatus().value()).isEqualTo(201);
        platform.gatewayClient(0).get().uri("/v1/topics/t.calm/events").header("Authorization", calm.bearer())
                .exchange().expectStatus().isOk().expectBody(Void.class);

        // When the polls end their places are free again.
        deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while ((pollStatuses.size() < MAX_INFLIGHT || admission.inflight("edgebusy") > 0) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(pollStatuses).containsOnly(200).hasSize(MAX_INFLIGHT);
        assertThat(admission.inflight("edgebusy")).isZero();
        assertThat(publish(busy, "t.empty", "{\"type\":\"t\"}").getStatus().value()).isEqualTo(201);
    }

    @Test
    void aQuotaChangeAppliesAtTheEdgeWithinASecond() throws Exception {
        TestPlatform.Key key = tenant("edgechange", 1, 1);
        drain(key, "t.c");
        platform.setPublishQuota("edgechange", 1000, 1000);
        long changed = System.nanoTime();
        // Ten publishes in a row cannot pass a bucket of 1/s: once they all do, the new quota is in force.
        long passedAfterMs = -1;
        while (System.nanoTime() - changed < Duration.ofSeconds(3).toNanos()) {
            long started = System.nanoTime();
            int ok = 0;
            for (int i = 0; i < 10; i++) {
                if (publish(key, "t.c", "{\"type\":\"t\"}").getStatus().value() == 201) {
                    ok++;
                }
            }
            if (ok == 10) {
                passedAfterMs = Duration.ofNanos(started - changed).toMillis();
                break;
            }
            Thread.sleep(50);
        }
        assertThat(passedAfterMs).as("ms from the change to ten publishes in a row passing").isBetween(0L, 1000L);
    }

    /**
     * The noisy neighbour of issue #11: tenant A publishes at ten times its quota from 32 concurrent
     * requests while tenant B publishes within its own and watches its topic over a WebSocket. B
     * loses nothing and is never throttled; A gets its quota through and no more.
     */
    @Test
    void aTenantFloodingAtTenTimesItsQuotaNeitherThrottlesNorLosesAnotherTenantsEvents() {
        // Low beside what even a loaded machine answers (a run answered only 236 requests in the 4 s,
        // short of the 300 that prove a 50/s flood went past its quota): the flood must go past it.
        int quota = 10;
        TestPlatform.Key flood = tenant("edgeflood", quota, quota);
        String quietSecret = platform.createTenant("edgequiet");
        platform.declareTopic("edgequiet", "t.*", Map.of());
        TestPlatform.Key quiet = platform.createKey("edgequiet", "publish", "subscribe");
        WebClient client = WebClient.builder().baseUrl(platform.gatewayUrl(1))
                .clientConnector(new ReactorClientHttpConnector(HttpClient.create(ConnectionProvider.create("flood", 64)))).build();
        Duration duration = Duration.ofSeconds(4);
        AtomicInteger floodAccepted = new AtomicInteger();
        AtomicInteger floodRefused = new AtomicInteger();
        AtomicInteger floodOther = new AtomicInteger();
        try (WsClient ws = WsClient.open(platform.gatewayUrl(1)).connect(WsClient.jwt(quietSecret, "edgequiet", List.of("t.*")))) {
            ws.subscribe("t.quiet", null);
            // A: 10 × 10/s, open loop (a tick is skipped, not queued, when 32 requests are already out).
            Mono<Void> floodRun = Flux.interval(Duration.ofMillis(10)).take(duration).onBackpressureDrop()
                    .flatMap(i -> client.post().uri("/v1/topics/t.flood/events").header("Authorization", flood.bearer())
                            .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"type\":\"t\"}")
                            .exchangeToMono(r -> r.releaseBody().thenReturn(r.statusCode().value()))
                            .onErrorReturn(-1), 32)
                    .doOnNext(status -> (status == 201 ? floodAccepted : status == 429 ? floodRefused : floodOther).incrementAndGet())
                    .then();
            // B: 10/s, 40 publishes, each one counted.
            Mono<List<Integer>> quietRun = Flux.interval(Duration.ofMillis(100)).take(40).onBackpressureBuffer(40)
                    .concatMap(i -> client.post().uri("/v1/topics/t.quiet/events").header("Authorization", quiet.bearer())
                            .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"type\":\"t\",\"data\":" + i + "}")
                            .exchangeToMono(r -> r.releaseBody().thenReturn(r.statusCode().value())))
                    .collectList();
            List<Integer> quietStatuses = Mono.zip(floodRun.thenReturn(true), quietRun).map(t -> t.getT2())
                    .block(duration.plusSeconds(60));

            assertThat(quietStatuses).hasSize(40).containsOnly(201);
            List<JsonNode> frames = ws.until(f -> f.path("event").path("seq").asLong() == quietStatuses.size(), WsClient.WAIT);
            assertThat(eventSeqs(frames)).containsExactlyElementsOf(TestPlatform.seqsAfter(0, quietStatuses.size()));
        }
        assertThat(floodOther.get()).as("flood requests neither 201 nor 429").isZero();
        // Its quota through and no more: 10/s for the run plus a burst of 10, within 10 %. How far past
        // it the flood got depends on the machine (32 requests out at a time): it must have gone past.
        long allowed = (long) quota * duration.toSeconds() + quota;
        assertThat(floodAccepted.get() + floodRefused.get()).as("flood requests answered").isGreaterThan((int) (allowed * 1.2));
        assertThat(floodRefused.get()).as("refused, of %s accepted", floodAccepted.get()).isGreaterThan(0);
        assertThat(floodAccepted.get()).as("accepted of %s refused (%s at the edge, %s by delivery)", floodRefused.get(),
                        edgeRefused(1, "edgeflood", "quota", "http"), deliveryThrottled("edgeflood"))
                .isBetween((int) (allowed * 0.5), (int) (allowed * 1.1));
        assertThat(head(flood, "t.flood")).isEqualTo(floodAccepted.get());
        assertThat(edgeRefused(1, "edgeflood", "quota", "http")).isGreaterThan(0.9 * floodRefused.get());
        assertThat(edgeRefused(1, "edgequiet", "quota", "http")).isZero();
        assertThat(deliveryThrottled("edgequiet")).isZero();
    }
}
