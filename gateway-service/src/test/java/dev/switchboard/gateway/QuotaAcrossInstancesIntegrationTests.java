package dev.switchboard.gateway;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.http.MediaType;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import tools.jackson.databind.JsonNode;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue #11: a tenant's and a topic's publish rate hold across delivery instances (each holds 1/N,
 * N learned from the registry), within ±10 %, and the survivor takes the whole rate when an
 * instance goes. Publishes go to both delivery instances in turn, as a balancer would send them.
 * The rates are counted in accepted events, not timed: the assertions hold on a loaded machine.
 */
class QuotaAcrossInstancesIntegrationTests {

    private static final Duration RUN = Duration.ofSeconds(4);

    private static TestPlatform platform;
    private static ConfigurableApplicationContext second;

    @BeforeAll
    static void start() {
        platform = TestPlatform.start(1, List.of("--switchboard.delivery.limits.instance-report-interval=200ms",
                "--switchboard.delivery.limits.instance-ttl=1s"));
        second = platform.startDelivery();
    }

    @AfterAll
    static void stop() {
        if (platform != null) {
            platform.close();
        }
    }

    private static double live(ConfigurableApplicationContext delivery) {
        Gauge gauge = delivery.getBean(MeterRegistry.class).find("switchboard.delivery.instances.live").gauge();
        return gauge == null ? 0 : gauge.value();
    }

    private static void awaitLive(ConfigurableApplicationContext delivery, int n) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (live(delivery) != n && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(live(delivery)).as("live delivery instances seen by %s", TestPlatform.url(delivery)).isEqualTo(n);
    }

    /**
     * Publishes single events for {@link #RUN} as fast as 48 concurrent requests go, each to the next
     * of {@code deliveries} in turn; returns how many were accepted (201).
     */
    private static int flood(List<ConfigurableApplicationContext> deliveries, String tenant, String topic) {
        WebClient client = WebClient.builder()
                .clientConnector(new ReactorClientHttpConnector(HttpClient.create(ConnectionProvider.create("quota", 64))))
                .defaultHeader("Authorization", "Bearer " + TestPlatform.SERVICE_TOKEN).build();
        // One event through each instance first: its topic look-up and buckets are ready, and the buckets
        // (their burst refills in one second at the shared rate) are full again when the run starts.
        for (ConfigurableApplicationContext delivery : deliveries) {
            int status = client.post().uri(TestPlatform.url(delivery) + "/internal/v1/tenants/{t}/topics/{topic}/events", tenant, topic)
                    .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"type\":\"t\"}")
                    .exchangeToMono(r -> r.releaseBody().thenReturn(r.statusCode().value())).block(Duration.ofSeconds(30));
            assertThat(status).isEqualTo(201);
        }
        try {
            Thread.sleep(1_100);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
        AtomicInteger accepted = new AtomicInteger();
        AtomicInteger other = new AtomicInteger();
        AtomicInteger next = new AtomicInteger();
        long end = System.nanoTime() + RUN.toNanos();
        Flux.range(0, 48)
                .flatMap(worker -> Flux.defer(() -> {
                            String url = TestPlatform.url(deliveries.get(Math.floorMod(next.getAndIncrement(), deliveries.size())));
                            return client.post().uri(url + "/internal/v1/tenants/{t}/topics/{topic}/events", tenant, topic)
                                    .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"type\":\"t\"}")
                                    .exchangeToMono(r -> r.releaseBody().thenReturn(r.statusCode().value()));
                        })
                        .repeat(() -> System.nanoTime() < end))
                .doOnNext(status -> (status == 201 ? accepted : status == 429 ? new AtomicInteger() : other).incrementAndGet())
                .blockLast(RUN.plusSeconds(60));
        assertThat(other.get()).as("answers neither 201 nor 429").isZero();
        return accepted.get();
    }

    @Test
    void twoDeliveryInstancesShareOneTenantsQuotaAndTheSurvivorTakesItAll() throws Exception {
        platform.createTenant("shared");
        platform.declareTopic("shared", "t.*", Map.of());
        platform.setPublishQuota("shared", 100, 100);
        ConfigurableApplicationContext first = platform.delivery();
        awaitLive(first, 2);
        awaitLive(second, 2);

        // 100/s for 4 s plus a burst of 100 in all: each instance holds half.
        int accepted = flood(List.of(first, second), "shared", "t.a");
        assertThat(accepted).isBetween((int) (500 * 0.9), (int) (500 * 1.1));

        // The topic's rate is shared the same way.
        platform.createTenant("sharedtopic");
        platform.declareTopic("sharedtopic", "t.*", Map.of("publishRate", Map.of("perSecond", 50, "burst", 50)));
        int topicAccepted = flood(List.of(first, second), "sharedtopic", "t.b");
        assertThat(topicAccepted).isBetween((int) (250 * 0.9), (int) (250 * 1.1));

        // The second instance goes: once its presence expires, the first holds the whole rate.
        second.close();
        awaitLive(first, 1);
        int alone = flood(List.of(first), "shared", "t.c");
        assertThat(alone).isBetween((int) (500 * 0.9), (int) (500 * 1.1));
    }

    @Test
    void theInstanceReportRefusesBadInputAndUnauthenticatedCallers() {
        WebClient client = WebClient.create(platform.registryUrl());
        Map<String, String> refused = Map.of(
                "/internal/v1/delivery-instances/short", "{\"ttlMs\":5}",
                "/internal/v1/delivery-instances/text", "{\"ttlMs\":\"6000\"}",
                "/internal/v1/delivery-instances/" + "x".repeat(65), "{\"ttlMs\":6000}",
                "/internal/v1/delivery-instances/empty", "");
        refused.forEach((path, body) -> {
            JsonNode problem = client.put().uri(path)
                    .header("Authorization", "Bearer " + TestPlatform.SERVICE_TOKEN)
                    .contentType(MediaType.APPLICATION_JSON).bodyValue(body)
                    .exchangeToMono(r -> {
                        assertThat(r.statusCode().value()).as(path).isEqualTo(400);
                        return r.bodyToMono(JsonNode.class);
                    }).block(Duration.ofSeconds(10));
            assertThat(problem.path("code").asString()).as(path).isEqualTo("invalid_request");
        });
        int unauthenticated = client.put().uri("/internal/v1/delivery-instances/x")
                .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"ttlMs\":6000}")
                .exchangeToMono(r -> r.releaseBody().thenReturn(r.statusCode().value())).block(Duration.ofSeconds(10));
        assertThat(unauthenticated).isEqualTo(401);
    }
}
