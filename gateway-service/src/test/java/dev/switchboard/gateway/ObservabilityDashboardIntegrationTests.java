package dev.switchboard.gateway;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every metric that {@code deploy/observability}'s Grafana dashboard queries is exported by a
 * running service: the platform is driven through what each panel shows (publishing, socket
 * delivery, consumer groups with a redelivery and a dead letter, consumer-lag backpressure, a topic
 * over its rate, a tenant over its quota at the edge, a socket cut for not reading), then every
 * service's {@code /actuator/prometheus} is read and each series name the dashboard uses must be there.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ObservabilityDashboardIntegrationTests {

    private static final Pattern METRIC = Pattern.compile("\\bswitchboard_[a-z0-9_]+");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    static TestPlatform platform;
    static String secret;
    static TestPlatform.Key key;

    @BeforeAll
    static void start() {
        platform = TestPlatform.start(1, List.of("--switchboard.delivery.lag-refresh-interval=200ms"),
                "--switchboard.gateway.websocket.queue-frames=16",
                "--switchboard.gateway.websocket.queue-bytes=1048576");
        secret = platform.createTenant("obs");
        key = platform.createKey("obs", "publish", "subscribe");
        platform.declareTopic("obs", "obs.*", Map.of("maxAttempts", 2));
        platform.declareTopic("obs", "obs.lagged", Map.of("maxLag", 1, "lagPolicy", "throttle"));
        platform.declareTopic("obs", "obs.rated", Map.of("publishRate", Map.of("perSecond", 1, "burst", 1)));
        platform.createTenant("obsquota");
        platform.setPublishQuota("obsquota", 1, 1);
    }

    @AfterAll
    static void stop() {
        if (platform != null) {
            platform.close();
        }
    }

    @Test
    void everyMetricTheDashboardQueriesIsExported() throws Exception {
        Path dashboard = root().resolve("deploy/observability/grafana/dashboards/switchboard.json");
        Set<String> queried = new TreeSet<>();
        for (JsonNode panel : JSON.readTree(Files.readString(dashboard)).path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                Matcher m = METRIC.matcher(target.path("expr").asString());
                while (m.find()) {
                    queried.add(m.group());
                }
            }
        }
        assertThat(queried).as("the dashboard's metrics").hasSizeGreaterThan(10);

        WebTestClient rest = platform.gatewayClient(0);
        // Socket delivery and publishing.
        try (WsClient fast = WsClient.open(platform.gatewayUrl(0)).connect(WsClient.jwt(secret, "obs", List.of("obs.*")));
             WsClient slow = WsClient.smallBuffer(platform.gatewayUrl(0))) {
            fast.subscribe("obs.feed", null);
            publish("obs.feed", 5, 10, 5);
            fast.until(f -> f.path("event").path("seq").asLong() == 5, WsClient.WAIT);

            // Consumer groups: a lease that expires (redelivery, attempt 2), then its nack at maxAttempts 2 (dead letter).
            group(rest, "obs.feed", "poll", "{\"max\":2,\"ackDeadlineMs\":100}");
            Thread.sleep(300);
            JsonNode again = group(rest, "obs.feed", "poll", "{\"max\":1}");
            assertThat(again.path("events").get(0).path("attempt").asInt()).isEqualTo(2);
            group(rest, "obs.feed", "nack", "{\"seqs\":[" + again.path("events").get(0).path("seq").asLong() + "]}");

            // Consumer lag over maxLag: a group that takes nothing, then publishes until delivery holds them back.
            group(rest, "obs.lagged", "poll", "{\"max\":1}");
            publish("obs.lagged", 3, 1, 3);
            awaitStatus(() -> status(rest, key, "obs.lagged"), 429);

            // A topic over its rate (delivery's buckets), a tenant over its quota (the gateway's edge).
            awaitStatus(() -> status(rest, key, "obs.rated"), 429);
            TestPlatform.Key quotaKey = platform.createKey("obsquota", "publish");
            platform.declareTopic("obsquota", "q", Map.of());
            awaitStatus(() -> status(rest, quotaKey, "q"), 429);

            // A socket that stops reading is cut (lagging): 12 MB, more than loopback buffers absorb, while
            // a reading socket on the same topic keeps the gateway's upstream of it flowing.
            fast.subscribe("obs.firehose", null);
            slow.connect(WsClient.jwt(secret, "obs", List.of("obs.*")));
            slow.subscribe("obs.firehose", null);
            slow.pause();
            io.micrometer.core.instrument.Counter lagging = platform.gateway(0).getBean(io.micrometer.core.instrument.MeterRegistry.class)
                    .counter("switchboard.gateway.ws.lagging.disconnects", "tenant", "obs");
            java.util.concurrent.CompletableFuture<Void> firehose = java.util.concurrent.CompletableFuture.runAsync(
                    () -> publish("obs.firehose", 400, 30_000, 2));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (lagging.count() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            slow.unpause();
            assertThat(lagging.count()).as("the paused socket was cut").isEqualTo(1);
            firehose.get(60, TimeUnit.SECONDS);
        }

        Set<String> exported = new TreeSet<>();
        for (String service : List.of(platform.gatewayUrl(0), platform.deliveryUrl(), platform.registryUrl())) {
            exported.addAll(scrape(service));
        }
        List<String> missing = new ArrayList<>();
        for (String metric : queried) {
            if (!exported.contains(metric)) {
                missing.add(metric);
            }
        }
        assertThat(missing).as("queried by the dashboard but exported by no service").isEmpty();
    }

    private static void publish(String topic, int n, int dataChars, int batchSize) {
        String data = "x".repeat(dataChars);
        for (int sent = 0; sent < n; sent += batchSize) {
            List<String> batch = new ArrayList<>();
            for (int i = sent; i < Math.min(n, sent + batchSize); i++) {
                batch.add("{\"type\":\"t\",\"data\":{\"i\":" + i + ",\"pad\":\"" + data + "\"}}");
            }
            platform.publishBatch(0, key, topic, batch);
        }
    }

    private static JsonNode group(WebTestClient rest, String topic, String op, String body) {
        return rest.post().uri("/v1/topics/" + topic + "/groups/watch/" + op).header("Authorization", key.bearer())
                .contentType(MediaType.APPLICATION_JSON).bodyValue(body)
                .exchange().expectStatus().isOk().expectBody(JsonNode.class).returnResult().getResponseBody();
    }

    private static int status(WebTestClient rest, TestPlatform.Key with, String topic) {
        return rest.post().uri("/v1/topics/" + topic + "/events").header("Authorization", with.bearer())
                .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"type\":\"t\"}")
                .exchange().expectBody(JsonNode.class).returnResult().getStatus().value();
    }

    private static void awaitStatus(java.util.function.IntSupplier publish, int expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        int status;
        do {
            status = publish.getAsInt();
        } while (status != expected && System.nanoTime() < deadline);
        assertThat(status).isEqualTo(expected);
    }

    /** The series names of one service's Prometheus page (names only, without labels). */
    private static Set<String> scrape(String baseUrl) throws Exception {
        HttpResponse<String> page = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(baseUrl + "/actuator/prometheus"))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).as(baseUrl + "/actuator/prometheus").isEqualTo(200);
        Set<String> names = new TreeSet<>();
        for (String line : page.body().split("\n")) {
            if (!line.isEmpty() && !line.startsWith("#")) {
                int end = line.indexOf('{') >= 0 ? line.indexOf('{') : line.indexOf(' ');
                names.add(line.substring(0, end));
            }
        }
        return names;
    }

    private static Path root() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("deploy/observability"))) {
                return dir;
            }
        }
        throw new IllegalStateException("no deploy/observability above " + Path.of("").toAbsolutePath());
    }
}
