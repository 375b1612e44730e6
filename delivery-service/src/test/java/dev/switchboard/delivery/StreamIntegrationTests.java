package dev.switchboard.delivery;

import dev.switchboard.contracts.registry.TopicSettings;
import dev.switchboard.delivery.log.LogItem;
import dev.switchboard.delivery.retention.RetentionJob;
import dev.switchboard.delivery.stream.LogStreams;
import dev.switchboard.testsupport.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Import;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.MediaType;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import reactor.test.StepVerifier;
import tools.jackson.databind.JsonNode;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"spring.config.name=" + DeliveryApplication.CONFIG_NAME,
                "switchboard.delivery.service-token=test-service-token",
                "switchboard.registry-client.service-token=test-service-token",
                "switchboard.delivery.page-size=50",
                "switchboard.delivery.retention-interval=PT1H"})
@Import(DeliveryTestConfiguration.class)
class StreamIntegrationTests {

    static final String TOKEN = "Bearer test-service-token";
    static ConfigurableApplicationContext second;

    @DynamicPropertySource
    static void database(DynamicPropertyRegistry registry) {
        TestDatabase.register(registry, "delivery");
    }

    @Autowired
    InMemoryRegistry registry;

    @Autowired
    LogStreams streams;

    @Autowired
    RetentionJob retention;

    @LocalServerPort
    int port;

    @AfterAll
    static void stopSecond() {
        if (second != null) {
            second.close();
        }
    }

    private void declare(String topic, Duration retention, Duration defaultTtl) {
        TopicSettings d = TopicSettings.defaults();
        registry.declare("acme", topic, new TopicSettings(1, retention, d.dedupWindow(), defaultTtl,
                d.maxPayloadBytes(), d.schemaVersions(), d.maxLag(), d.lagPolicy(), d.maxAttempts(), new TopicSettings.PublishRate(100_000, 100_000)));
    }

    private static WebClient client(int port) {
        return WebClient.builder().baseUrl("http://127.0.0.1:" + port)
                .defaultHeader("Authorization", TOKEN)
                .clientConnector(new ReactorClientHttpConnector(HttpClient.create(ConnectionProvider.create("c" + port, 32))))
                .build();
    }

    private static final tools.jackson.databind.json.JsonMapper JSON = tools.jackson.databind.json.JsonMapper.builder().build();

    private static Mono<Long> publish(WebClient client, String topic, String body) {
        return client.post().uri("/internal/v1/tenants/acme/topics/" + topic + "/events")
                .contentType(MediaType.APPLICATION_JSON).bodyValue(body)
                .retrieve().bodyToMono(JsonNode.class).map(n -> n.get("seq").asLong());
    }

    /**
     * The stream's lines as JSON. Read as raw buffers, each copied out and released in the signal
     * that brought it: a decoder that keeps a partial line's buffer across signals (Spring's
     * JSON and String decoders do) can strand it when {@code take(n)} cancels mid-line, and the
     * leak check then fails whichever test class is running when it is found.
     */
    private static Flux<JsonNode> stream(WebClient client, String topic, String after) {
        return Flux.defer(() -> {
            java.io.ByteArrayOutputStream partial = new java.io.ByteArrayOutputStream();
            return client.get().uri("/internal/v1/tenants/acme/topics/" + topic + "/stream" + (after == null ? "" : "?after=" + after))
                    .accept(MediaType.parseMediaType("application/x-ndjson"))
                    .retrieve().bodyToFlux(DataBuffer.class)
                    .concatMapIterable(buffer -> {
                        List<JsonNode> lines = new ArrayList<>();
                        try {
                            while (buffer.readableByteCount() > 0) {
                                byte b = buffer.read();
                                if (b != '\n') {
                                    partial.write(b);
                                    continue;
                                }
                                String line = partial.toString(StandardCharsets.UTF_8).trim();
                                partial.reset();
                                if (!line.isEmpty()) {
                                    lines.add(JSON.readTree(line));
                                }
                            }
                        } finally {
                            DataBufferUtils.release(buffer);
                        }
                        return lines;
                    });
        });
    }

    @Test
    void replayHandsOverToLiveWithNoGapAndNoDuplicateUnderConcurrentPublishing() {
        declare("handover", TopicSettings.DEFAULT_RETENTION, null);
        WebClient client = client(port);
        int total = 600;
        // 200 events before the reader arrives, 400 while it replays and after it has caught up.
        Flux.range(0, 200).flatMap(i -> publish(client, "handover", "{\"type\":\"t\",\"data\":" + i + "}"), 8)
                .blockLast(Duration.ofSeconds(60));
        Flux<Long> writers = Flux.range(200, 400)
                .flatMap(i -> publish(client, "handover", "{\"type\":\"t\",\"data\":" + i + "}"), 8);
        Flux<Long> seqs = stream(client, "handover", "0")
                .filter(n -> n.has("seq"))
                .map(n -> n.get("seq").asLong())
                .take(total);
        // Both to the end: a publish whose answer is still on its way is not cancelled (a cancelled
        // response can strand a buffer, which the leak check then blames on a later test class).
        List<Long> received = Mono.zip(seqs.collectList(), writers.then(Mono.just(true))).map(t -> t.getT1())
                .block(Duration.ofSeconds(90));
        assertThat(received).hasSize(total);
        for (int i = 0; i < total; i++) {
            assertThat(received.get(i)).isEqualTo(i + 1);
        }
    }

    /**
     * Events this instance commits go to its own live streams straight from the commit (no read of
     * the log), byte for byte as the log stores them, in order, with none missing.
     */
    @Test
    void eventsThisInstanceCommitsReachItsLiveStreamsAsStoredWithoutReadingTheLog() {
        declare("local", TopicSettings.DEFAULT_RETENTION, null);
        WebClient client = client(port);
        double handedOverBefore = handOvers(client);
        int total = 200;
        Flux<JsonNode> live = stream(client, "local", "0").filter(n -> n.has("seq")).take(total);
        Flux<Long> writers = Flux.range(0, total)
                .delaySubscription(Duration.ofMillis(300))
                .flatMap(i -> publish(client, "local", "{\"type\":\"t\",\"data\":{\"i\":" + i + ",\"text\":\"é € 𝄞\"}}"), 8);
        List<JsonNode> received = Mono.zip(live.collectList(), writers.then(Mono.just(true))).map(t -> t.getT1())
                .block(Duration.ofSeconds(60));
        assertThat(received).extracting(n -> n.get("seq").asLong()).containsExactlyElementsOf(
                Flux.range(1, total).map(Long::valueOf).collectList().block());
        JsonNode stored = client.get().uri("/internal/v1/tenants/acme/topics/local/events?after=0&limit=1000")
                .retrieve().bodyToMono(JsonNode.class).block(Duration.ofSeconds(10));
        List<JsonNode> storedEvents = new ArrayList<>();
        stored.get("events").forEach(storedEvents::add);
        assertThat(received).extracting(n -> n.get("event")).containsExactlyElementsOf(storedEvents);
        assertThat(handOvers(client)).as("batches taken straight from the commit").isGreaterThan(handedOverBefore);
    }

    /** How many batches live streams took from {@code LocalCommits} (the delivery.handoff stage's count). */
    private static double handOvers(WebClient client) {
        String page = client.get().uri("/actuator/prometheus").retrieve().bodyToMono(String.class).block(Duration.ofSeconds(10));
        return page.lines().filter(l -> l.startsWith("switchboard_live_stage_seconds_count{") && l.contains("stage=\"delivery.handoff\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    @Test
    void aStreamOnOneInstanceSeesEventsPublishedThroughAnother() {
        declare("shared", TopicSettings.DEFAULT_RETENTION, null);
        second = DeliveryApplication.application().run(
                "--server.port=0",
                "--switchboard.delivery.service-token=test-service-token",
                "--spring.main.allow-bean-definition-overriding=false",
                "--spring.r2dbc.url=" + TestDatabase.get().uri().r2dbcUrl(),
                "--spring.r2dbc.username=" + TestDatabase.get().uri().user(),
                "--spring.r2dbc.password=" + TestDatabase.get().uri().password(),
                "--spring.r2dbc.properties.schema=delivery",
                "--spring.flyway.url=" + TestDatabase.get().uri().jdbcUrl(),
                "--spring.flyway.user=" + TestDatabase.get().uri().user(),
                "--spring.flyway.password=" + TestDatabase.get().uri().password(),
                "--spring.flyway.schemas=delivery",
                "--spring.flyway.default-schema=delivery",
                "--switchboard.registry-client.service-token=test-service-token",
                "--spring.main.sources=" + DeliveryTestConfiguration.class.getName());
        second.getBean(InMemoryRegistry.class).declare("acme", "shared", registryCopy("shared"));
        int secondPort = Integer.parseInt(second.getEnvironment().getProperty("local.server.port"));
        WebClient a = client(port);
        WebClient b = client(secondPort);

        Flux<Long> seen = stream(b, "shared", null).filter(n -> n.has("seq")).map(n -> n.get("seq").asLong()).take(100);
        Flux<Long> writers = Flux.range(0, 100)
                .delaySubscription(Duration.ofMillis(500))
                .flatMap(i -> publish(i % 2 == 0 ? a : b, "shared", "{\"type\":\"t\",\"data\":" + i + "}"), 8);
        List<Long> received = Mono.zip(seen.collectList(), writers.then(Mono.just(true))).map(t -> t.getT1())
                .block(Duration.ofSeconds(60));
        assertThat(received).containsExactlyElementsOf(Flux.range(1, 100).map(Long::valueOf).collectList().block());

        // Both instances publishing hard to one partition: each one's predicted seqs are spoiled by the
        // other's commits, and the partition row lock still hands out every seq exactly once.
        List<Long> seqs = Flux.range(0, 1200)
                .flatMap(i -> publish(i % 2 == 0 ? a : b, "shared", "{\"type\":\"t\",\"data\":" + i + "}"), 16)
                .collectList()
                .block(Duration.ofSeconds(120));
        assertThat(seqs).doesNotHaveDuplicates().hasSize(1200);
        assertThat(seqs.stream().mapToLong(Long::longValue).min().orElseThrow()).isEqualTo(101);
        assertThat(seqs.stream().mapToLong(Long::longValue).max().orElseThrow()).isEqualTo(1300);
    }

    private TopicSettings registryCopy(String topic) {
        return registry.resolveTopic("acme", topic).block().settings();
    }

    @Test
    void expiredEventsAreNeverDelivered() {
        declare("ttl", TopicSettings.DEFAULT_RETENTION, null);
        WebClient client = client(port);
        publish(client, "ttl", "{\"type\":\"short\",\"ttl\":1,\"data\":1}").block(Duration.ofSeconds(10));
        publish(client, "ttl", "{\"type\":\"long\",\"data\":2}").block(Duration.ofSeconds(10));
        Mono.delay(Duration.ofMillis(1500)).block();
        JsonNode page = client.get().uri("/internal/v1/tenants/acme/topics/ttl/events?after=0")
                .retrieve().bodyToMono(JsonNode.class).block(Duration.ofSeconds(10));
        assertThat(page.get("events")).hasSize(1);
        assertThat(page.get("events").get(0).get("type").asString()).isEqualTo("long");
        assertThat(page.get("events").get(0).get("seq").asLong()).isEqualTo(2);
        List<JsonNode> streamed = stream(client, "ttl", "0").filter(n -> n.has("seq")).take(1).collectList()
                .block(Duration.ofSeconds(10));
        assertThat(streamed.get(0).get("seq").asLong()).isEqualTo(2);
    }

    @Test
    void retentionRemovesOldEventsAndReadersAreToldTheirResumePointIsGone() {
        declare("retained", Duration.ofSeconds(4), null);
        WebClient client = client(port);
        for (int i = 0; i < 120; i++) {
            publish(client, "retained", "{\"type\":\"old\",\"data\":" + i + "}").block(Duration.ofSeconds(10));
        }
        // The old events pass their 4 s retention; the new one stays well inside it while the sweep runs.
        Mono.delay(Duration.ofMillis(4200)).block();
        publish(client, "retained", "{\"type\":\"new\",\"data\":1}").block(Duration.ofSeconds(10));
        StepVerifier.create(retention.sweep()).assertNext(n -> assertThat(n).isGreaterThanOrEqualTo(120)).verifyComplete();

        JsonNode page = client.get().uri("/internal/v1/tenants/acme/topics/retained/events?after=10")
                .retrieve().bodyToMono(JsonNode.class).block(Duration.ofSeconds(10));
        assertThat(page.get("gap").get("from").asLong()).isEqualTo(11);
        assertThat(page.get("gap").get("to").asLong()).isEqualTo(120);
        assertThat(page.get("first").asLong()).isEqualTo(121);
        assertThat(page.get("events")).hasSize(1);
        assertThat(page.get("events").get(0).get("seq").asLong()).isEqualTo(121);

        List<JsonNode> streamed = stream(client, "retained", "10").take(3).collectList().block(Duration.ofSeconds(10));
        assertThat(streamed.get(0).has("position")).isTrue();
        assertThat(streamed.get(1).get("gap").get("to").asLong()).isEqualTo(120);
        assertThat(streamed.get(2).get("seq").asLong()).isEqualTo(121);
    }

    @Test
    void aSweepPrunesEveryExpiredDedupKeyWhereverItLiesAndNoLiveOne() throws Exception {
        declare("pruned", TopicSettings.DEFAULT_RETENTION, null);
        WebClient client = client(port);
        Long first = publish(client, "pruned", "{\"id\":\"live\",\"type\":\"t\",\"data\":1}").block(Duration.ofSeconds(10));
        // 29,700 keys whose window has passed and 3,300 live ones among them, over more pages than
        // one prune statement reads, and some of another tenant's.
        try (java.sql.Connection c = TestDatabase.get().openConnection(); java.sql.Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO delivery.dedup (tenant_id, topic, id, partition, seq, expires_at) "
                    + "SELECT 'acme', 'pruned', 'old-' || g, 0, g, CASE WHEN g % 10 = 0 THEN now() + interval '1 hour' "
                    + "ELSE now() - interval '1 minute' END FROM generate_series(1, 33000) g");
            s.executeUpdate("INSERT INTO delivery.dedup (tenant_id, topic, id, partition, seq, expires_at) "
                    + "SELECT 'other', 'elsewhere', 'old-' || g, 0, g, now() - interval '1 second' FROM generate_series(1, 3000) g");
            try (java.sql.ResultSet r = s.executeQuery("SELECT pg_relation_size('delivery.dedup') / 8192")) {
                r.next();
                assertThat(r.getLong(1)).as("pages of dedup").isGreaterThan(256);
            }
        }
        StepVerifier.create(retention.sweep()).expectNextCount(1).verifyComplete();
        try (java.sql.Connection c = TestDatabase.get().openConnection(); java.sql.Statement s = c.createStatement();
             java.sql.ResultSet r = s.executeQuery("SELECT count(*) FILTER (WHERE tenant_id = 'acme' AND topic = 'pruned'), "
                     + "count(*) FILTER (WHERE expires_at <= now()) FROM delivery.dedup WHERE topic IN ('pruned', 'elsewhere')")) {
            r.next();
            assertThat(r.getLong(1)).as("the live keys are left, and only they").isEqualTo(1 + 3300);
            assertThat(r.getLong(2)).as("expired keys, of either tenant").isZero();
        }
        // the published key is still there: the same id again is a duplicate, answered with the first seq
        Long again = publish(client, "pruned", "{\"id\":\"live\",\"type\":\"t\",\"data\":1}").block(Duration.ofSeconds(10));
        assertThat(again).isEqualTo(first);
    }

    @Test
    void aSlowReaderIsFedOnlyWhatItRequests() {
        declare("slow", TopicSettings.DEFAULT_RETENTION, null);
        WebClient client = client(port);
        Flux.range(0, 300).flatMap(i -> publish(client, "slow", "{\"type\":\"t\",\"data\":" + i + "}"), 8)
                .blockLast(Duration.ofSeconds(60));
        List<Long> seqs = new ArrayList<>();
        StepVerifier.create(streams.topic("acme", "slow", Map.of(0, 0L)), 5)
                .recordWith(() -> new ArrayList<LogItem>())
                .expectNextCount(5)
                .expectNoEvent(Duration.ofMillis(300))
                .thenRequest(10)
                .expectNextCount(10)
                .consumeRecordedWith(items -> items.forEach(i -> seqs.add(((LogItem.Event) i).seq())))
                .thenCancel()
                .verify(Duration.ofSeconds(10));
        assertThat(seqs).containsExactlyElementsOf(Flux.range(1, 15).map(Long::valueOf).collectList().block());
    }
}
