package dev.switchboard.delivery;

import dev.switchboard.contracts.registry.TopicSettings;
import dev.switchboard.testsupport.TestDatabase;
import org.junit.jupiter.api.BeforeAll;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient;
import org.springframework.context.annotation.Import;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.core.publisher.Flux;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"spring.config.name=" + DeliveryApplication.CONFIG_NAME,
                "switchboard.delivery.service-token=test-service-token",
                "switchboard.registry-client.service-token=test-service-token"})
@AutoConfigureWebTestClient
@Import(DeliveryTestConfiguration.class)
class PublishIntegrationTests {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    static final String TOKEN = "Bearer test-service-token";

    @DynamicPropertySource
    static void database(DynamicPropertyRegistry registry) {
        TestDatabase.register(registry, "delivery");
    }

    @Autowired
    WebTestClient web;

    @Autowired
    InMemoryRegistry registry;

    @Autowired
    MeterRegistry meters;

    @LocalServerPort
    int port;

    /** A real HTTP client for concurrency: WebTestClient's exchange() blocks and would serialise the calls. */
    private WebClient client() {
        return WebClient.builder().baseUrl("http://127.0.0.1:" + port)
                .defaultHeader("Authorization", TOKEN)
                .clientConnector(new ReactorClientHttpConnector(HttpClient.create(ConnectionProvider.create("publishers", 64))))
                .build();
    }

    private Mono<JsonNode> post(WebClient client, String tenant, String topic, String body) {
        return client.post().uri(events(tenant, topic)).contentType(MediaType.APPLICATION_JSON).bodyValue(body)
                .retrieve().bodyToMono(JsonNode.class);
    }

    private String events(String tenant, String topic) {
        return "/internal/v1/tenants/" + tenant + "/topics/" + topic + "/events";
    }

    private void declare(String tenant, String topic, int partitions) {
        TopicSettings d = TopicSettings.defaults();
        registry.declare(tenant, topic, new TopicSettings(partitions, d.retention(), d.dedupWindow(), d.defaultTtl(),
                d.maxPayloadBytes(), d.schemaVersions(), d.maxLag(), d.lagPolicy(), d.maxAttempts(), new TopicSettings.PublishRate(100_000, 100_000)));
    }

    @Test
    void singlePublishIsSequencedAndADuplicateReturnsTheOriginalSeq() throws Exception {
        declare("acme", "orders", 1);
        String body = "{\"id\":\"o-1\",\"type\":\"order.created\",\"data\":{\"n\":1}}";
        web.post().uri(events("acme", "orders")).header("Authorization", TOKEN)
                .contentType(MediaType.parseMediaType("application/cloudevents+json")).bodyValue(body)
                .exchange().expectStatus().isCreated()
                .expectBody().jsonPath("$.seq").isEqualTo(1).jsonPath("$.duplicate").isEqualTo(false)
                .jsonPath("$.id").isEqualTo("o-1").jsonPath("$.partition").isEqualTo(0);
        web.post().uri(events("acme", "orders")).header("Authorization", TOKEN)
                .contentType(MediaType.APPLICATION_JSON).bodyValue(body)
                .exchange().expectStatus().isOk()
                .expectBody().jsonPath("$.seq").isEqualTo(1).jsonPath("$.duplicate").isEqualTo(true);
        assertThat(rows("acme", "orders")).isEqualTo(1);
    }

    @Test
    void concurrentPublishersGetGapFreeUniqueSeqs() throws Exception {
        declare("acme", "load", 1);
        int publishers = 16;
        int perPublisher = 150;
        WebClient client = client();
        double predictedBefore = predictedCommits();
        List<Long> seqs = Flux.range(0, publishers)
                .flatMap(p -> Flux.range(0, perPublisher)
                        .concatMap(i -> post(client, "acme", "load", "{\"type\":\"t\",\"data\":{\"p\":" + p + ",\"i\":" + i + "}}")
                                .map(n -> n.get("seq").asLong())), publishers)
                .collectList()
                .block(Duration.ofSeconds(120));
        assertThat(seqs).hasSize(publishers * perPublisher);
        assertThat(new HashSet<>(seqs)).hasSize(publishers * perPublisher);
        assertThat(seqs.stream().mapToLong(Long::longValue).min().orElseThrow()).isEqualTo(1);
        assertThat(seqs.stream().mapToLong(Long::longValue).max().orElseThrow()).isEqualTo(publishers * perPublisher);
        assertThat(storedSeqsAreGapFree("acme", "load", 0)).isEqualTo(publishers * perPublisher);
        // With transactions in flight, later ones write before they lock the partition (seqs predicted).
        assertThat(predictedCommits()).isGreaterThan(predictedBefore);
    }

    private double predictedCommits() {
        Counter c = meters.find("switchboard.delivery.commit.attempts").tags("way", "predicted", "outcome", "committed").counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void racingDuplicatesAreStoredOnce() throws Exception {
        declare("acme", "race", 1);
        for (int round = 0; round < 5; round++) {
            String id = "dup-" + round;
            WebClient client = client();
            List<JsonNode> results = Flux.range(0, 16)
                    .flatMap(i -> post(client, "acme", "race", "{\"id\":\"" + id + "\",\"type\":\"t\",\"data\":" + i + "}"), 16)
                    .collectList()
                    .block(Duration.ofSeconds(60));
            Set<Long> seqs = new HashSet<>();
            long fresh = 0;
            for (JsonNode r : results) {
                seqs.add(r.get("seq").asLong());
                if (!r.get("duplicate").asBoolean()) {
                    fresh++;
                }
            }
            assertThat(seqs).as("every racer is told the one seq").hasSize(1);
            assertThat(fresh).as("exactly one racer stored it").isEqualTo(1);
        }
        assertThat(rows("acme", "race")).isEqualTo(5);
        assertThat(storedSeqsAreGapFree("acme", "race", 0)).isEqualTo(5);
    }

    @Test
    void partitionsKeepTheirOwnGapFreeSequences() throws Exception {
        declare("acme", "parted", 4);
        List<ObjectNodeResult> results = java.util.Collections.synchronizedList(new ArrayList<>());
        WebClient client = client();
        Flux.range(0, 1600)
                .flatMap(i -> post(client, "acme", "parted", "{\"type\":\"t\",\"partitionkey\":\"user-" + (i % 37) + "\",\"data\":" + i + "}"), 16)
                .doOnNext(n -> results.add(new ObjectNodeResult(n.get("partition").asInt(), n.get("seq").asLong())))
                .blockLast(Duration.ofSeconds(60));
        int total = 0;
        for (int p = 0; p < 4; p++) {
            total += storedSeqsAreGapFree("acme", "parted", p);
        }
        assertThat(total).isEqualTo(1600);
        assertThat(results.stream().map(ObjectNodeResult::partition).distinct().count()).isGreaterThan(1);
    }

    record ObjectNodeResult(int partition, long seq) {
    }

    @Test
    void aSmallBatchOverSeveralPartitionsIsWrittenInOneStatementWithEachPartitionsSeqs() throws Exception {
        declare("acme", "small", 4);
        double before = commits("one-statement");
        StringBuilder batch = new StringBuilder("[");
        for (int i = 0; i < 12; i++) {
            // Quotes, backslashes, JSON punctuation and non-ASCII text survive the statement's text arrays.
            batch.append(i == 0 ? "" : ",").append("{\"id\":\"m-").append(i).append("\",\"type\":\"t\",\"partitionkey\":\"k-")
                    .append(i % 5).append("\",\"data\":{\"i\":").append(i).append(",\"q\":\"a\\\"b\\\\c,{é😀}\"}}");
        }
        batch.append("]");
        web.post().uri(events("acme", "small")).header("Authorization", TOKEN)
                .contentType(MediaType.parseMediaType("application/cloudevents-batch+json")).bodyValue(batch.toString())
                .exchange().expectStatus().isCreated().expectBody(Void.class);
        assertThat(commits("one-statement")).isEqualTo(before + 1);
        int total = 0;
        for (int p = 0; p < 4; p++) {
            total += storedSeqsAreGapFree("acme", "small", p);
        }
        assertThat(total).isEqualTo(12);
        try (Connection c = TestDatabase.get().openConnection(); Statement s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT e.partition, e.seq, e.id, e.envelope, d.partition AS dp, d.seq AS ds"
                    + " FROM delivery.events e JOIN delivery.dedup d USING (tenant_id, topic, id)"
                    + " WHERE e.tenant_id = 'acme' AND e.topic = 'small'");
            int rows = 0;
            while (rs.next()) {
                rows++;
                JsonNode envelope = JSON.readTree(rs.getString("envelope"));
                assertThat(envelope.get("seq").asLong()).isEqualTo(rs.getLong("seq")).isEqualTo(rs.getLong("ds"));
                assertThat(envelope.get("partition").asInt()).isEqualTo(rs.getInt("partition")).isEqualTo(rs.getInt("dp"));
                assertThat(envelope.get("id").asString()).isEqualTo(rs.getString("id"));
                assertThat(envelope.get("data").get("q").asString()).isEqualTo("a\"b\\c,{é😀}");
            }
            assertThat(rows).isEqualTo(12);
        }
        // The same batch again: every event a duplicate with its original seq, nothing stored twice.
        web.post().uri(events("acme", "small")).header("Authorization", TOKEN)
                .contentType(MediaType.parseMediaType("application/cloudevents-batch+json")).bodyValue(batch.toString())
                .exchange().expectStatus().is2xxSuccessful()
                .expectBody(String.class).value(text -> {
                    JsonNode results = JSON.readTree(text).get("results");
                    assertThat(results).hasSize(12);
                    results.forEach(r -> assertThat(r.get("duplicate").asBoolean()).isTrue());
                });
        assertThat(rows("acme", "small")).isEqualTo(12);
    }

    private double commits(String way) {
        Counter c = meters.find("switchboard.delivery.commit.attempts").tags("way", way, "outcome", "committed").counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void anIdWhoseDedupWindowHasPassedIsStoredAgainEvenBeforeItsKeyIsPruned() throws Exception {
        declare("acme", "window", 1);
        String body = "{\"id\":\"w-1\",\"type\":\"t\",\"data\":{\"n\":1}}";
        web.post().uri(events("acme", "window")).header("Authorization", TOKEN)
                .contentType(MediaType.APPLICATION_JSON).bodyValue(body)
                .exchange().expectStatus().isCreated()
                .expectBody().jsonPath("$.seq").isEqualTo(1).jsonPath("$.duplicate").isEqualTo(false);
        // The window passes; retention has not pruned the key yet.
        try (Connection c = TestDatabase.get().openConnection(); Statement s = c.createStatement()) {
            assertThat(s.executeUpdate("UPDATE delivery.dedup SET expires_at = now() - interval '1 second'"
                    + " WHERE tenant_id = 'acme' AND topic = 'window' AND id = 'w-1'")).isEqualTo(1);
        }
        web.post().uri(events("acme", "window")).header("Authorization", TOKEN)
                .contentType(MediaType.APPLICATION_JSON).bodyValue(body)
                .exchange().expectStatus().isCreated()
                .expectBody().jsonPath("$.seq").isEqualTo(2).jsonPath("$.duplicate").isEqualTo(false);
        web.post().uri(events("acme", "window")).header("Authorization", TOKEN)
                .contentType(MediaType.APPLICATION_JSON).bodyValue(body)
                .exchange().expectStatus().isOk()
                .expectBody().jsonPath("$.seq").isEqualTo(2).jsonPath("$.duplicate").isEqualTo(true);
        assertThat(storedSeqsAreGapFree("acme", "window", 0)).isEqualTo(2);
    }

    @Test
    void theStoredEnvelopeCarriesItsSeqAndServerAttributes() throws Exception {
        declare("acme", "stored", 1);
        String batch = "[{\"id\":\"s-1\",\"type\":\"t\",\"data\":{\"seq\":0,\"q\":\"a\\\"b\"}},"
                + "{\"id\":\"s-2\",\"type\":\"t\",\"ttl\":60,\"data\":[1,2]}]";
        web.post().uri(events("acme", "stored")).header("Authorization", TOKEN)
                .contentType(MediaType.parseMediaType("application/cloudevents-batch+json")).bodyValue(batch)
                .exchange().expectStatus().isCreated().expectBody(Void.class);
        try (Connection c = TestDatabase.get().openConnection(); Statement s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT seq, id, envelope, expires_at IS NOT NULL AS expires FROM delivery.events"
                    + " WHERE tenant_id = 'acme' AND topic = 'stored' ORDER BY seq");
            for (int seq = 1; seq <= 2; seq++) {
                assertThat(rs.next()).isTrue();
                JsonNode envelope = JSON.readTree(rs.getString("envelope"));
                assertThat(rs.getLong("seq")).isEqualTo(seq);
                assertThat(envelope.get("seq").asLong()).isEqualTo(seq);
                assertThat(envelope.get("partition").asInt()).isZero();
                assertThat(envelope.get("id").asString()).isEqualTo(rs.getString("id")).isEqualTo("s-" + seq);
                assertThat(envelope.get("tenant").asString()).isEqualTo("acme");
                assertThat(envelope.get("topic").asString()).isEqualTo("stored");
                assertThat(envelope.has("time")).isTrue();
                assertThat(rs.getBoolean("expires")).isEqualTo(seq == 2);
            }
            assertThat(rs.next()).isFalse();
        }
        web.get().uri(events("acme", "stored") + "?after=0&limit=10").header("Authorization", TOKEN)
                .exchange().expectStatus().isOk()
                .expectBody().jsonPath("$.events[0].data.seq").isEqualTo(0).jsonPath("$.events[0].data.q").isEqualTo("a\"b")
                .jsonPath("$.events[1].seq").isEqualTo(2).jsonPath("$.events[1].data[1]").isEqualTo(2);
    }

    @Test
    void aBatchIsAllOrNothing() throws Exception {
        declare("acme", "batch", 1);
        String good = "[{\"type\":\"a\",\"data\":1},{\"type\":\"b\",\"data\":2},{\"id\":\"x\",\"type\":\"c\",\"data\":3}]";
        web.post().uri(events("acme", "batch")).header("Authorization", TOKEN)
                .contentType(MediaType.parseMediaType("application/cloudevents-batch+json")).bodyValue(good)
                .exchange().expectStatus().isCreated()
                .expectBody().jsonPath("$.results.length()").isEqualTo(3)
                .jsonPath("$.results[0].seq").isEqualTo(1).jsonPath("$.results[2].seq").isEqualTo(3);
        String bad = "[{\"type\":\"a\",\"data\":1},{\"data\":2}]";
        web.post().uri(events("acme", "batch")).header("Authorization", TOKEN)
                .contentType(MediaType.parseMediaType("application/cloudevents-batch+json")).bodyValue(bad)
                .exchange().expectStatus().isBadRequest()
                .expectHeader().contentType("application/problem+json")
                .expectBody().jsonPath("$.code").isEqualTo("invalid_request")
                .jsonPath("$.detail").value(d -> assertThat(d.toString()).contains("events[1]"));
        for (String withNull : List.of("[null]", "[{\"type\":\"a\"},null]")) {
            for (String contentType : List.of("application/cloudevents-batch+json", "application/json")) {
                web.post().uri(events("acme", "batch")).header("Authorization", TOKEN)
                        .contentType(MediaType.parseMediaType(contentType)).bodyValue(withNull)
                        .exchange().expectStatus().isBadRequest()
                        .expectHeader().contentType("application/problem+json")
                        .expectBody().jsonPath("$.code").isEqualTo("invalid_request")
                        .jsonPath("$.detail").value(d -> assertThat(d.toString()).contains("is null"));
            }
        }
        assertThat(rows("acme", "batch")).isEqualTo(3);
    }

    /** The contract's types, not what Jackson would coerce them into (issue #16, defect 6). */
    @Test
    void valuesOfTheWrongJsonTypeAreRefusedNotCoerced() throws Exception {
        declare("acme", "wrongtypes", 1);
        for (String bad : List.of("{\"type\":\"t\",\"ttl\":1.5}", "{\"type\":\"t\",\"ttl\":\"60\"}",
                "{\"type\":\"t\",\"ttl\":true}", "{\"type\":7}", "{\"type\":\"t\",\"id\":5}",
                "{\"type\":\"t\",\"source\":1.5}", "{\"type\":\"t\",\"partitionkey\":3}",
                "{\"type\":\"t\",\"subject\":false}", "{\"type\":\"t\",\"schemaversion\":\"2\"}")) {
            web.post().uri(events("acme", "wrongtypes")).header("Authorization", TOKEN)
                    .contentType(MediaType.APPLICATION_JSON).bodyValue(bad)
                    .exchange().expectStatus().isBadRequest()
                    .expectHeader().contentType("application/problem+json")
                    .expectBody().jsonPath("$.code").isEqualTo("invalid_request");
        }
        assertThat(rows("acme", "wrongtypes")).isZero();
        web.post().uri(events("acme", "wrongtypes")).header("Authorization", TOKEN)
                .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"type\":\"t\",\"ttl\":60,\"id\":\"5\",\"partitionkey\":\"3\"}")
                .exchange().expectStatus().isCreated().expectBody().returnResult();
    }

    /** Overlong forms, surrogates and code points past U+10FFFF are not UTF-8 (issue #16, defect 4). */
    @Test
    void aBodyThatIsNotWellFormedUtf8IsRefused() throws Exception {
        declare("acme", "utf8", 1);
        byte[][] malformed = {{(byte) 0xC0, (byte) 0xAF}, {(byte) 0xE0, (byte) 0x80, (byte) 0xAF},
                {(byte) 0xC0, (byte) 0xAE, (byte) 0xC0, (byte) 0xAE}, {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
                {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xFF}, {(byte) 0xE2, (byte) 0x82}};
        for (byte[] bad : malformed) {
            for (String field : List.of("id", "data", "subject")) {
                java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
                body.writeBytes(("{\"type\":\"t\",\"" + field + "\":\"a").getBytes(StandardCharsets.UTF_8));
                body.writeBytes(bad);
                body.writeBytes("b\"}".getBytes(StandardCharsets.UTF_8));
                web.post().uri(events("acme", "utf8")).header("Authorization", TOKEN)
                        .contentType(MediaType.APPLICATION_JSON).bodyValue(body.toByteArray())
                        .exchange().expectStatus().isBadRequest()
                        .expectHeader().contentType("application/problem+json")
                        .expectBody().jsonPath("$.code").isEqualTo("invalid_request")
                        .jsonPath("$.detail").value(d -> assertThat(d.toString()).contains("not well-formed UTF-8"));
            }
        }
        assertThat(rows("acme", "utf8")).isZero();
        web.post().uri(events("acme", "utf8")).header("Authorization", TOKEN)
                .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"type\":\"t\",\"id\":\"x1\",\"subject\":\"é/€/𝄞\",\"data\":\"ü\"}".getBytes(StandardCharsets.UTF_8))
                .exchange().expectStatus().isCreated().expectBody().returnResult();
    }

    @Test
    void binaryModeStoresHeadersAsAttributesAndTheBodyAsData() {
        declare("acme", "binary", 1);
        web.post().uri(events("acme", "binary")).header("Authorization", TOKEN)
                .header("ce-specversion", "1.0").header("ce-type", "sensor.reading").header("ce-id", "b-1")
                .header("ce-source", "/sensors/1").header("ce-partitionkey", "s%201")
                .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"celsius\":21.5}")
                .exchange().expectStatus().isCreated().expectBody().jsonPath("$.seq").isEqualTo(1);
        web.get().uri(events("acme", "binary") + "?after=0").header("Authorization", TOKEN)
                .exchange().expectStatus().isOk()
                .expectBody()
                .jsonPath("$.events[0].type").isEqualTo("sensor.reading")
                .jsonPath("$.events[0].source").isEqualTo("/sensors/1")
                .jsonPath("$.events[0].partitionkey").isEqualTo("s 1")
                .jsonPath("$.events[0].data.celsius").isEqualTo(21.5)
                .jsonPath("$.events[0].seq").isEqualTo(1)
                .jsonPath("$.events[0].tenant").isEqualTo("acme")
                .jsonPath("$.head").isEqualTo(1);
    }

    @Test
    void withoutTheServiceTokenNothingIsAccepted() throws Exception {
        declare("acme", "guarded", 1);
        web.post().uri(events("acme", "guarded")).contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"type\":\"t\"}")
                .exchange().expectStatus().isUnauthorized()
                .expectBody().jsonPath("$.code").isEqualTo("unauthenticated");
        assertThat(rows("acme", "guarded")).isZero();
    }

    @Test
    void metricsCountPublishesBatchesAndRejectsByTenantNeverByTopic() {
        declare("metered", "secret-topic-name", 1);
        web.post().uri(events("metered", "secret-topic-name")).header("Authorization", TOKEN)
                .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"type\":\"t\"}")
                .exchange().expectStatus().isCreated().expectBody(Void.class);
        web.post().uri(events("metered", "secret-topic-name")).header("Authorization", TOKEN)
                .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"type\":\"t\",\"ttl\":-1}")
                .exchange().expectStatus().isBadRequest().expectBody(Void.class);
        String metrics = web.get().uri("/actuator/prometheus").exchange().expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody();
        assertThat(metrics)
                .containsPattern("switchboard_delivery_publish_seconds_count\\{[^}]*outcome=\"accepted\"[^}]*tenant=\"metered\"")
                .containsPattern("switchboard_delivery_events_published_total\\{[^}]*tenant=\"metered\"[^}]*} 1")
                .containsPattern("switchboard_delivery_publish_rejected_total\\{[^}]*code=\"invalid_request\"[^}]*tenant=\"metered\"")
                .contains("switchboard_delivery_commit_batch_size_count")
                .contains("switchboard_delivery_streams_open")
                .doesNotContain("secret-topic-name");
    }

    @Test
    void aTopicsPublishRateThrottlesWith429AndRetryAfterAndStoresNothing() throws Exception {
        TopicSettings d = TopicSettings.defaults();
        registry.declare("acme", "metered-topic", new TopicSettings(1, d.retention(), d.dedupWindow(), d.defaultTtl(),
                d.maxPayloadBytes(), d.schemaVersions(), d.maxLag(), d.lagPolicy(), d.maxAttempts(), new TopicSettings.PublishRate(2, 5)));
        web.post().uri(events("acme", "metered-topic")).header("Authorization", TOKEN)
                .contentType(MediaType.parseMediaType("application/cloudevents-batch+json"))
                .bodyValue("[{\"type\":\"t\"},{\"type\":\"t\"},{\"type\":\"t\"},{\"type\":\"t\"},{\"type\":\"t\"}]")
                .exchange().expectStatus().isCreated().expectBody(Void.class);
        // The burst is spent: the next event waits for a refill (2/s → about 500 ms).
        web.post().uri(events("acme", "metered-topic")).header("Authorization", TOKEN)
                .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"type\":\"t\"}")
                .exchange().expectStatus().isEqualTo(429)
                .expectHeader().valueEquals("Retry-After", "1")
                .expectBody().jsonPath("$.code").isEqualTo("rate_limited")
                .jsonPath("$.retryAfterMs").value(ms -> assertThat(((Number) ms).longValue()).isBetween(1L, 1000L));
        // Bigger than the burst: can never fit, and says so.
        web.post().uri(events("acme", "metered-topic")).header("Authorization", TOKEN)
                .contentType(MediaType.parseMediaType("application/cloudevents-batch+json"))
                .bodyValue("[" + String.join(",", java.util.Collections.nCopies(6, "{\"type\":\"t\"}")) + "]")
                .exchange().expectStatus().isEqualTo(429)
                .expectBody().jsonPath("$.detail").value(detail -> assertThat(detail.toString()).contains("exceeds"));
        assertThat(rows("acme", "metered-topic")).isEqualTo(5);
        Thread.sleep(1100);
        web.post().uri(events("acme", "metered-topic")).header("Authorization", TOKEN)
                .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"type\":\"t\"}")
                .exchange().expectStatus().isCreated()
                .expectBody().jsonPath("$.seq").isEqualTo(6);
        // Another topic of the tenant is not held back by this one's bucket.
        declare("acme", "unmetered-neighbour", 1);
        web.post().uri(events("acme", "unmetered-neighbour")).header("Authorization", TOKEN)
                .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"type\":\"t\"}")
                .exchange().expectStatus().isCreated().expectBody(Void.class);
    }

    @Test
    void aTenantsQuotaThrottlesAllItsTopicsButNoOtherTenant() throws Exception {
        registry.quotas("noisy", new dev.switchboard.contracts.registry.TenantQuotas(1, 3, 100, 10, 65_536));
        declare("noisy", "one", 1);
        declare("noisy", "two", 1);
        declare("quiet", "one", 1);
        for (String topic : List.of("one", "two", "one")) {
            web.post().uri(events("noisy", topic)).header("Authorization", TOKEN)
                    .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"type\":\"t\"}")
                    .exchange().expectStatus().isCreated().expectBody(Void.class);
        }
        web.post().uri(events("noisy", "two")).header("Authorization", TOKEN)
                .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"type\":\"t\"}")
                .exchange().expectStatus().isEqualTo(429)
                .expectHeader().exists("Retry-After")
                .expectBody().jsonPath("$.code").isEqualTo("rate_limited");
        assertThat(rows("noisy", "two")).isEqualTo(1);
        web.post().uri(events("quiet", "one")).header("Authorization", TOKEN)
                .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"type\":\"t\"}")
                .exchange().expectStatus().isCreated().expectBody(Void.class);
        String metrics = web.get().uri("/actuator/prometheus").exchange().expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody();
        assertThat(metrics).containsPattern("switchboard_delivery_publish_throttled_total\\{[^}]*bucket=\"tenant\"[^}]*tenant=\"noisy\"");
    }

    private long rows(String tenant, String topic) throws Exception {
        try (Connection c = TestDatabase.get().openConnection(); Statement s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT count(*) FROM delivery.events WHERE tenant_id = '" + tenant + "' AND topic = '" + topic + "'");
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Asserts seqs of the partition are exactly 1..n and returns n. */
    private int storedSeqsAreGapFree(String tenant, String topic, int partition) throws Exception {
        try (Connection c = TestDatabase.get().openConnection(); Statement s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT seq FROM delivery.events WHERE tenant_id = '" + tenant + "' AND topic = '" + topic
                    + "' AND partition = " + partition + " ORDER BY seq");
            int expected = 1;
            while (rs.next()) {
                assertThat(rs.getLong(1)).isEqualTo(expected);
                expected++;
            }
            return expected - 1;
        }
    }
}
