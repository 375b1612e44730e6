package dev.switchboard.gateway;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue #16, defect 3: once the registry has answered a revocation, nothing the revoked credential
 * sends is stored — not even in the first millisecond, on any gateway. Publishers hammer two
 * gateways with a key while it is revoked (or its tenant deleted); every publish sent after the
 * registry's answer must be refused.
 */
class RevocationBarrierIntegrationTests {

    private static final int ROUNDS = 6;
    private static final int PUBLISHERS_PER_GATEWAY = 3;

    static TestPlatform platform;
    static ConnectionProvider connections;

    @BeforeAll
    static void start() {
        platform = TestPlatform.start(2);
        connections = ConnectionProvider.create("revocation", 32);
    }

    @AfterAll
    static void stop() {
        if (connections != null) {
            connections.dispose();
        }
        if (platform != null) {
            platform.close();
        }
    }

    /** One publish: when it was sent (before its request was written) and the status it got. */
    record Sent(long sentAtNanos, int status) {
    }

    /**
     * Publishes with {@code key} from every gateway until {@code revoke} has answered and a while after;
     * returns every publish and when the revocation's answer arrived.
     */
    private static Map.Entry<Long, List<Sent>> publishWhile(String topic, TestPlatform.Key key, Supplier<Integer> revoke)
            throws InterruptedException {
        ConcurrentLinkedQueue<Sent> sent = new ConcurrentLinkedQueue<>();
        AtomicBoolean stop = new AtomicBoolean();
        List<WebClient> clients = List.of(client(0), client(1));
        reactor.core.Disposable publishers = Flux.range(0, 2 * PUBLISHERS_PER_GATEWAY)
                .flatMap(p -> Flux.defer(() -> {
                            long at = System.nanoTime();
                            return clients.get(p % 2).post().uri("/v1/topics/{t}/events", topic).header("Authorization", key.bearer())
                                    .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"type\":\"t\",\"data\":{\"p\":" + p + "}}")
                                    .exchangeToMono(r -> r.releaseBody().thenReturn(new Sent(at, r.statusCode().value())));
                        })
                        .doOnNext(sent::add)
                        .repeat(() -> !stop.get()))
                .subscribe();
        try {
            // Let them publish for a moment: the key works.
            Thread.sleep(300);
            int status = revoke.get();
            long answered = System.nanoTime();
            assertThat(status).isEqualTo(204);
            Thread.sleep(300);
            stop.set(true);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!publishers.isDisposed() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            return Map.entry(answered, List.copyOf(sent));
        } finally {
            publishers.dispose();
        }
    }

    private static WebClient client(int gateway) {
        return WebClient.builder().baseUrl(platform.gatewayUrl(gateway))
                .clientConnector(new ReactorClientHttpConnector(HttpClient.create(connections))).build();
    }

    private static void assertNothingSentAfterTheAnswerWasStored(Map.Entry<Long, List<Sent>> round, String what) {
        long answered = round.getKey();
        List<Sent> before = round.getValue().stream().filter(s -> s.sentAtNanos() < answered).toList();
        List<Sent> after = round.getValue().stream().filter(s -> s.sentAtNanos() > answered).toList();
        assertThat(before).as("%s: publishes stored before the revocation", what).anyMatch(s -> s.status() == 201);
        assertThat(after).as("%s: publishes sent after the revocation was answered", what).isNotEmpty();
        // 401 (the key is gone), or 404 once the tenant's topics are gone too.
        assertThat(after).as("%s: none of them stored", what).allMatch(s -> s.status() == 401 || s.status() == 404,
                "refused with 401 or 404");
    }

    private static long barrierWaits(String outcome) {
        io.micrometer.core.instrument.Timer timer = platform.registry().getBean(io.micrometer.core.instrument.MeterRegistry.class)
                .find("switchboard.registry.revocation.barrier").tag("outcome", outcome).timer();
        return timer == null ? 0 : timer.count();
    }

    @Test
    void aRevokedKeyHasNothingStoredThatItSendsAfterTheRevocationIsAnswered() throws Exception {
        platform.createTenant("barrier");
        platform.declareTopic("barrier", "b.*", Map.of());
        long applied = barrierWaits("applied");
        long timedOut = barrierWaits("timeout");
        for (int round = 0; round < ROUNDS; round++) {
            TestPlatform.Key key = platform.createKey("barrier", "publish");
            Map.Entry<Long, List<Sent>> result = publishWhile("b.k" + round, key, () -> platform.admin().delete()
                    .uri("/admin/v1/tenants/{t}/keys/{id}", "barrier", key.id()).exchange().returnResult(Void.class).getStatus().value());
            assertNothingSentAfterTheAnswerWasStored(result, "round " + round);
        }
        // Every revocation waited for the two gateways and the delivery instance, and none gave up.
        assertThat(barrierWaits("applied") - applied).isEqualTo(ROUNDS);
        assertThat(barrierWaits("timeout")).isEqualTo(timedOut);
    }

    @Test
    void aDeletedTenantHasNothingStoredThatItSendsAfterTheDeletionIsAnswered() throws Exception {
        for (int round = 0; round < ROUNDS; round++) {
            String tenant = "gone-" + round;
            platform.createTenant(tenant);
            platform.declareTopic(tenant, "g.*", Map.of());
            TestPlatform.Key key = platform.createKey(tenant, "publish");
            Map.Entry<Long, List<Sent>> result = publishWhile("g.t", key, () -> platform.admin().delete()
                    .uri("/admin/v1/tenants/{t}", tenant).exchange().returnResult(Void.class).getStatus().value());
            assertNothingSentAfterTheAnswerWasStored(result, tenant);
        }
    }
}
