package dev.switchboard.delivery;

import dev.switchboard.contracts.registry.LagPolicy;
import dev.switchboard.contracts.registry.TopicSettings;
import dev.switchboard.delivery.lag.LagView;
import dev.switchboard.testsupport.TestDatabase;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Consumer-lag backpressure to producers through delivery's internal HTTP API, on real PostgreSQL:
 * real groups (that do not ack), real publishes, the lag view refreshed from the database.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"spring.config.name=" + DeliveryApplication.CONFIG_NAME,
                "switchboard.delivery.service-token=test-service-token",
                "switchboard.registry-client.service-token=test-service-token",
                "switchboard.delivery.retention-interval=PT1H",
                "switchboard.delivery.lag-refresh-interval=PT0.2S"})
@Import(DeliveryTestConfiguration.class)
class LagBackpressureIntegrationTests {

    static final String TOKEN = "Bearer test-service-token";
    static final Duration TIMEOUT = Duration.ofSeconds(30);
    static final Duration REFRESH = Duration.ofMillis(200);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** Tenants of this class only: test classes share one database per JVM. */
    static final String TENANT = "lagco";
    static final String OTHER = "lagother";

    @DynamicPropertySource
    static void database(DynamicPropertyRegistry registry) {
        TestDatabase.register(registry, "delivery");
    }

    @Autowired
    InMemoryRegistry registry;

    @Autowired
    MeterRegistry meters;

    @Autowired
    LagView view;

    @LocalServerPort
    int port;

    record Answer(int status, String retryAfter, JsonNode body) {
        String code() {
            return body.path("code").asString("");
        }

        List<Long> seqs() {
            List<Long> seqs = new ArrayList<>();
            body.get("events").forEach(e -> seqs.add(e.get("seq").asLong()));
            return seqs;
        }
    }

    private Answer call(String method, String path, String body) {
        return call(port, method, path, body);
    }

    private Answer call(int port, String method, String path, String body) {
        WebClient.RequestBodySpec spec = WebClient.builder().baseUrl("http://127.0.0.1:" + port)
                .defaultHeader("Authorization", TOKEN).build().method(HttpMethod.valueOf(method)).uri(path);
        WebClient.RequestHeadersSpec<?> request = body == null ? spec : spec.contentType(MediaType.APPLICATION_JSON).bodyValue(body);
        return request.exchangeToMono(r -> r.bodyToMono(String.class).defaultIfEmpty("{}")
                        .map(text -> new Answer(r.statusCode().value(), r.headers().asHttpHeaders().getFirst("Retry-After"), JSON.readTree(text))))
                .block(TIMEOUT);
    }

    private Answer publish(String tenant, String topic) {
        return call("POST", "/internal/v1/tenants/" + tenant + "/topics/" + topic + "/events", "{\"type\":\"t\",\"data\":{\"n\":1}}");
    }

    private void publishAccepted(String tenant, String topic, int n) {
        for (int i = 0; i < n; i++) {
            Answer a = publish(tenant, topic);
            assertThat(a.status()).as(a.body().toString()).isEqualTo(201);
        }
    }

    private Answer group(String tenant, String topic, String group, String op, String body) {
        Answer a = call("POST", "/internal/v1/tenants/" + tenant + "/topics/" + topic + "/groups/" + group + "/" + op, body);
        assertThat(a.status()).as(a.body().toString()).isEqualTo(200);
        return a;
    }

    /** A group that exists (created by its first poll, from the oldest event) and has taken nothing. */
    private void idleGroup(String tenant, String topic, String group) {
        assertThat(group(tenant, topic, group, "poll", "{\"max\":1,\"from\":\"earliest\"}").seqs()).isEmpty();
    }

    private long head(String tenant, String topic) {
        Answer a = call("GET", "/internal/v1/tenants/" + tenant + "/topics/" + topic + "/events?after=0&limit=1", null);
        assertThat(a.status()).as(a.body().toString()).isEqualTo(200);
        return a.body().get("head").asLong();
    }

    private void declare(String tenant, String topic, long maxLag, LagPolicy policy, int maxAttempts) {
        registry.declare(tenant, topic, settings(maxLag, policy, maxAttempts));
    }

    private static TopicSettings settings(long maxLag, LagPolicy policy, int maxAttempts) {
        TopicSettings d = TopicSettings.defaults();
        return new TopicSettings(1, d.retention(), d.dedupWindow(), d.defaultTtl(), d.maxPayloadBytes(),
                d.schemaVersions(), maxLag, policy, maxAttempts, new TopicSettings.PublishRate(100_000, 100_000));
    }

    private void declare(String tenant, String topic, long maxLag, LagPolicy policy) {
        declare(tenant, topic, maxLag, policy, 5);
    }

    /** What every instance does every interval, now. */
    private void refresh() {
        view.refresh().block(TIMEOUT);
    }

    private double lagCount(String tenant, String outcome) {
        Counter c = meters.find("switchboard.delivery.publish.lag").tags("tenant", tenant, "outcome", outcome).counter();
        return c == null ? 0 : c.count();
    }

    private static void assertSlowDown(Answer a) {
        assertThat(a.status()).as(a.body().toString()).isEqualTo(429);
        assertThat(a.code()).isEqualTo("slow_down");
        assertThat(a.retryAfter()).isNotNull();
        // Retry-After is whole seconds, rounded up from retryAfterMs.
        assertThat(Long.parseLong(a.retryAfter())).isEqualTo((a.body().get("retryAfterMs").asLong() + 999) / 1000);
    }

    @Test
    void throttleAnswers429SlowDownWithARetryAfterThatGrowsWithTheLagAndStoresNothing() {
        declare(TENANT, "orders", 5, LagPolicy.THROTTLE);
        idleGroup(TENANT, "orders", "billing");
        publishAccepted(TENANT, "orders", 6);
        refresh();
        double throttled = lagCount(TENANT, "throttled");

        Answer first = publish(TENANT, "orders");
        assertSlowDown(first);
        // Lag 6 over maxLag 5: 1 s + 29 s × 1/5.
        assertThat(first.body().get("retryAfterMs").asLong()).isEqualTo(6800);
        assertThat(first.retryAfter()).isEqualTo("7");
        assertThat(first.body().get("detail").asString()).contains("6 events behind", "maxLag 5");
        Answer batch = call("POST", "/internal/v1/tenants/" + TENANT + "/topics/orders/events",
                "[{\"type\":\"t\",\"data\":1},{\"type\":\"t\",\"data\":2}]");
        assertSlowDown(batch);
        assertThat(head(TENANT, "orders")).isEqualTo(6);
        assertThat(lagCount(TENANT, "throttled")).isEqualTo(throttled + 2);

        // The lag grows (the policy off for a moment lets two more in): a longer wait.
        declare(TENANT, "orders", 5, LagPolicy.NONE);
        publishAccepted(TENANT, "orders", 2);
        declare(TENANT, "orders", 5, LagPolicy.THROTTLE);
        refresh();
        Answer later = publish(TENANT, "orders");
        assertSlowDown(later);
        assertThat(later.body().get("retryAfterMs").asLong()).isEqualTo(18_400).isGreaterThan(first.body().get("retryAfterMs").asLong());
        assertThat(later.retryAfter()).isEqualTo("19");
        assertThat(head(TENANT, "orders")).isEqualTo(8);

        // Far past twice the limit the wait stays at its bound.
        declare(TENANT, "orders", 2, LagPolicy.THROTTLE);
        Answer bounded = publish(TENANT, "orders");
        assertSlowDown(bounded);
        assertThat(bounded.body().get("retryAfterMs").asLong()).isEqualTo(30_000);
        assertThat(head(TENANT, "orders")).isEqualTo(8);

        Gauge lag = meters.find("switchboard.delivery.groups.lag.max").tags("tenant", TENANT).gauge();
        assertThat(lag).isNotNull();
        assertThat(lag.value()).isGreaterThanOrEqualTo(8);
    }

    @Test
    void publishingRecoversByItselfWithinTheRefreshIntervalOnceTheGroupAcks() {
        declare(TENANT, "recover", 5, LagPolicy.THROTTLE);
        idleGroup(TENANT, "recover", "workers");
        publishAccepted(TENANT, "recover", 6);
        refresh();
        assertSlowDown(publish(TENANT, "recover"));

        Answer leased = group(TENANT, "recover", "workers", "poll", "{\"max\":10}");
        assertThat(leased.seqs()).hasSize(6);
        group(TENANT, "recover", "workers", "ack", "{\"seqs\":" + leased.seqs() + "}");

        // No refresh() here: the view's own schedule must lift the throttle.
        long acked = System.nanoTime();
        Answer ok = publish(TENANT, "recover");
        while (ok.status() == 429 && System.nanoTime() - acked < Duration.ofSeconds(10).toNanos()) {
            Mono.delay(Duration.ofMillis(20)).block();
            ok = publish(TENANT, "recover");
        }
        Duration took = Duration.ofNanos(System.nanoTime() - acked);
        assertThat(ok.status()).as(ok.body().toString()).isEqualTo(201);
        // A refresh interval (200 ms), plus room for a loaded machine.
        assertThat(took).isLessThan(REFRESH.plusSeconds(3));
        assertThat(ok.body().get("seq").asLong()).isEqualTo(7);
        assertThat(head(TENANT, "recover")).isEqualTo(7);
    }

    @Test
    void shedRefusesNewEventsWithAFlatRetryAfterWhileOverTheLimit() {
        declare(TENANT, "telemetry", 5, LagPolicy.SHED);
        idleGroup(TENANT, "telemetry", "sink");
        publishAccepted(TENANT, "telemetry", 6);
        declare(TENANT, "telemetry", 5, LagPolicy.NONE);
        publishAccepted(TENANT, "telemetry", 4);
        declare(TENANT, "telemetry", 5, LagPolicy.SHED);
        refresh();
        double shed = lagCount(TENANT, "shed");

        for (int i = 0; i < 3; i++) {
            Answer refused = publish(TENANT, "telemetry");
            assertSlowDown(refused);
            assertThat(refused.body().get("detail").asString()).contains("refused", "shed");
            // The soonest the refusal can lift is the next refresh (at least 1 s), however far over.
            assertThat(refused.body().get("retryAfterMs").asLong()).isEqualTo(1000);
            assertThat(refused.retryAfter()).isEqualTo("1");
        }
        assertThat(lagCount(TENANT, "shed")).isEqualTo(shed + 3);
        assertThat(head(TENANT, "telemetry")).isEqualTo(10);

        // Once the group is done with everything, events are taken again.
        Answer leased = group(TENANT, "telemetry", "sink", "poll", "{\"max\":100}");
        group(TENANT, "telemetry", "sink", "ack", "{\"seqs\":" + leased.seqs() + "}");
        refresh();
        assertThat(publish(TENANT, "telemetry").status()).isEqualTo(201);
        assertThat(head(TENANT, "telemetry")).isEqualTo(11);
    }

    @Test
    void noneAcceptsOverTheLimitAndOnlyReportsIt() {
        declare(TENANT, "audit", 5, LagPolicy.NONE);
        idleGroup(TENANT, "audit", "archive");
        publishAccepted(TENANT, "audit", 6);
        refresh();
        double accepted = lagCount(TENANT, "accepted");

        publishAccepted(TENANT, "audit", 3);
        assertThat(lagCount(TENANT, "accepted")).isEqualTo(accepted + 3);
        assertThat(head(TENANT, "audit")).isEqualTo(9);
    }

    @Test
    void topicsWithoutGroupsCaughtUpGroupsOtherTopicsAndOtherTenantsAreNeverHeldBack() {
        declare(TENANT, "hot", 5, LagPolicy.THROTTLE);
        idleGroup(TENANT, "hot", "stuck");
        publishAccepted(TENANT, "hot", 6);
        // The same settings, no group at all: never throttled, however much is published.
        declare(TENANT, "nogroups", 5, LagPolicy.THROTTLE);
        publishAccepted(TENANT, "nogroups", 20);
        // A group that keeps up: never more than maxLag behind (at the limit is not over it).
        declare(TENANT, "kept", 5, LagPolicy.THROTTLE);
        idleGroup(TENANT, "kept", "fast");
        for (int round = 0; round < 4; round++) {
            publishAccepted(TENANT, "kept", 5);
            Answer leased = group(TENANT, "kept", "fast", "poll", "{\"max\":100}");
            assertThat(leased.seqs()).hasSize(5);
            group(TENANT, "kept", "fast", "ack", "{\"seqs\":" + leased.seqs() + "}");
        }
        // Another tenant, a topic of the same name and a lagging group of the same name, under its limit.
        declare(OTHER, "hot", 100, LagPolicy.THROTTLE);
        idleGroup(OTHER, "hot", "stuck");
        publishAccepted(OTHER, "hot", 20);
        refresh();

        assertSlowDown(publish(TENANT, "hot"));
        publishAccepted(TENANT, "nogroups", 5);
        publishAccepted(TENANT, "kept", 3);
        publishAccepted(OTHER, "hot", 5);
        refresh();
        publishAccepted(TENANT, "nogroups", 5);
        publishAccepted(OTHER, "hot", 5);
        assertThat(head(TENANT, "nogroups")).isEqualTo(30);
        assertThat(head(TENANT, "kept")).isEqualTo(23);
        assertThat(head(OTHER, "hot")).isEqualTo(30);
        assertThat(head(TENANT, "hot")).isEqualTo(6);
    }

    @Test
    void anotherDeliveryInstanceSeesTheLagAndTheRecoveryWithinItsOwnRefresh() {
        declare(TENANT, "shared", 5, LagPolicy.THROTTLE);
        ConfigurableApplicationContext second = startInstance();
        try {
            second.getBean(InMemoryRegistry.class).declare(TENANT, "shared", settings(5, LagPolicy.THROTTLE, 5));
            int other = Integer.parseInt(second.getEnvironment().getProperty("local.server.port"));
            String events = "/internal/v1/tenants/" + TENANT + "/topics/shared/events";
            // The group and the backlog on this instance; the other never saw a poll or an ack.
            idleGroup(TENANT, "shared", "billing");
            publishAccepted(TENANT, "shared", 6);

            long since = System.nanoTime();
            Answer there = call(other, "POST", events, "{\"type\":\"t\"}");
            while (there.status() == 201 && System.nanoTime() - since < Duration.ofSeconds(10).toNanos()) {
                Mono.delay(Duration.ofMillis(20)).block();
                there = call(other, "POST", events, "{\"type\":\"t\"}");
            }
            assertSlowDown(there);
            assertThat(Duration.ofNanos(System.nanoTime() - since)).isLessThan(REFRESH.plusSeconds(3));
            long head = head(TENANT, "shared");

            Answer leased = group(TENANT, "shared", "billing", "poll", "{\"max\":100}");
            assertThat(leased.seqs()).hasSize((int) head);
            group(TENANT, "shared", "billing", "ack", "{\"seqs\":" + leased.seqs() + "}");
            since = System.nanoTime();
            there = call(other, "POST", events, "{\"type\":\"t\"}");
            while (there.status() == 429 && System.nanoTime() - since < Duration.ofSeconds(10).toNanos()) {
                Mono.delay(Duration.ofMillis(20)).block();
                there = call(other, "POST", events, "{\"type\":\"t\"}");
            }
            assertThat(there.status()).as(there.body().toString()).isEqualTo(201);
            assertThat(Duration.ofNanos(System.nanoTime() - since)).isLessThan(REFRESH.plusSeconds(3));
            assertThat(head(TENANT, "shared")).isEqualTo(head + 1);
        } finally {
            second.close();
        }
    }

    /** A second delivery instance on the same database (its own lag view, its own in-memory registry). */
    private static ConfigurableApplicationContext startInstance() {
        return DeliveryApplication.application().run(
                "--server.port=0",
                "--switchboard.delivery.service-token=test-service-token",
                "--switchboard.delivery.retention-interval=PT1H",
                "--switchboard.delivery.lag-refresh-interval=PT0.2S",
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
    }

    @Test
    void deadLettersAreNeverRefusedByTheLagOfTheirParentNorOfTheDeadLetterTopic() {
        // maxAttempts 1: a nack dead-letters at once. {topic}.dlq takes its parent's settings (maxLag 1).
        // Declared with policy none while the backlog is made: the view refreshes on its own meanwhile.
        declare(TENANT, "payments", 1, LagPolicy.NONE, 1);
        idleGroup(TENANT, "payments", "billing");
        idleGroup(TENANT, "payments.dlq", "inspect");
        publishAccepted(TENANT, "payments", 3);
        declare(TENANT, "payments", 1, LagPolicy.THROTTLE, 1);
        refresh();
        assertSlowDown(publish(TENANT, "payments"));

        Answer leased = group(TENANT, "payments", "billing", "poll", "{\"max\":2}");
        assertThat(leased.seqs()).containsExactly(1L, 2L);
        assertThat(group(TENANT, "payments", "billing", "nack", "{\"seqs\":[1,2],\"reason\":\"bad\"}")
                .body().get("deadLettered").asInt()).isEqualTo(2);
        assertThat(head(TENANT, "payments.dlq")).isEqualTo(2);

        // Now the dead-letter topic's own group is 2 behind (over maxLag 1): a producer of its own is
        // throttled, the group's dead letters still go through.
        refresh();
        assertSlowDown(publish(TENANT, "payments.dlq"));
        assertThat(group(TENANT, "payments", "billing", "poll", "{\"max\":1}").seqs()).containsExactly(3L);
        assertThat(group(TENANT, "payments", "billing", "nack", "{\"seqs\":[3]}").body().get("deadLettered").asInt()).isEqualTo(1);
        assertThat(head(TENANT, "payments.dlq")).isEqualTo(3);
        assertThat(head(TENANT, "payments")).isEqualTo(3);
    }
}
