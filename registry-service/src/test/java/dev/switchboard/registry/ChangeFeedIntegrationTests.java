package dev.switchboard.registry;

import dev.switchboard.contracts.registry.RegistryChange;
import dev.switchboard.contracts.registry.RegistryChange.Kind;
import io.micrometer.core.instrument.MeterRegistry;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** GET /internal/v1/changes: replay, live changes within a second, heartbeats, resume, reset. */
class ChangeFeedIntegrationTests extends RegistryIntegrationTest {

    private static final MediaType NDJSON = MediaType.parseMediaType("application/x-ndjson");

    @Autowired
    MeterRegistry meters;

    private WebClient client() {
        return WebClient.builder().baseUrl(baseUrl())
                .defaultHeader(HttpHeaders.AUTHORIZATION, "Bearer " + SERVICE_TOKEN)
                .build();
    }

    private Flux<RegistryChange> feed(Long after) {
        return client().get()
                .uri(after == null ? "/internal/v1/changes" : "/internal/v1/changes?after=" + after)
                .accept(NDJSON)
                .retrieve()
                .bodyToFlux(RegistryChange.class);
    }

    /** The feed, keeping heartbeats and the changes of one tenant (other tests' changes may interleave). */
    private Flux<RegistryChange> feedOf(String tenant, Long after) {
        return feed(after).filter(c -> c.kind() == Kind.HEARTBEAT || tenant.equals(c.tenant()));
    }

    private static long latestChangeId() {
        return count("SELECT coalesce(max(id), 0) FROM changes");
    }

    /**
     * The change of a committed admin write reaches a live feed within a second of the commit (the
     * write's response); it may well arrive before that response does.
     */
    @Test
    void anAdminChangeArrivesWithinOneSecond() {
        String t = newTenantId();
        AtomicLong sentAt = new AtomicLong();
        AtomicLong committedAt = new AtomicLong();
        StepVerifier.create(feedOf(t, null))
                .assertNext(first -> {
                    assertThat(first.kind()).isEqualTo(Kind.HEARTBEAT);
                    assertThat(first.id()).isGreaterThanOrEqualTo(0);
                })
                .then(() -> {
                    sentAt.set(System.nanoTime());
                    // non-blocking: this runs on the feed's event loop
                    client().post().uri("/admin/v1/tenants")
                            .header(HttpHeaders.AUTHORIZATION, "Bearer " + ADMIN_TOKEN)
                            .contentType(MediaType.APPLICATION_JSON)
                            .bodyValue(Map.of("id", t, "name", "live"))
                            .retrieve().toBodilessEntity()
                            .doOnSuccess(response -> committedAt.set(System.nanoTime()))
                            .subscribe();
                })
                .thenConsumeWhile(c -> c.kind() == Kind.HEARTBEAT)
                .assertNext(change -> {
                    long arrived = System.nanoTime();
                    long committed = committedAt.get();
                    Duration afterCommit = committed == 0 ? Duration.ZERO : Duration.ofNanos(arrived - committed);
                    System.out.printf("change feed: write answered %s after sending, change arrived %s after the answer%n",
                            committed == 0 ? "(not yet)" : Duration.ofNanos(committed - sentAt.get()), afterCommit);
                    assertThat(afterCommit).isLessThan(Duration.ofSeconds(1));
                    assertThat(change.kind()).isEqualTo(Kind.TENANT);
                    assertThat(change.tenant()).isEqualTo(t);
                    assertThat(change.ref()).isNull();
                    assertThat(change.at()).isNotNull();
                })
                .thenCancel()
                .verify(Duration.ofSeconds(15));
    }

    @Test
    void resumesAfterAGivenIdWithReplayThenHeartbeat() {
        long before = latestChangeId();
        String t = newTenantId();
        createTenant(t);
        String key = createKey(t, "publish");
        String keyId = key.substring("sb_".length(), "sb_".length() + "key_".length() + 12);
        admin().put().uri("/admin/v1/tenants/{t}/topics/{n}", t, "orders.*").contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{}").exchange().expectStatus().isCreated().expectBody(Void.class);
        admin().put().uri("/admin/v1/tenants/{t}/quotas", t).contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{}").exchange().expectStatus().isOk().expectBody(Void.class);
        List<Long> ids = sql("SELECT id FROM changes WHERE tenant_id = ? ORDER BY id", t).stream()
                .map(row -> ((Number) row.get(0)).longValue()).toList();
        assertThat(ids).hasSize(4);

        StepVerifier.create(feedOf(t, before))
                .assertNext(c -> assertChange(c, ids.get(0), Kind.TENANT, t, null))
                .assertNext(c -> assertChange(c, ids.get(1), Kind.KEY, t, keyId))
                .assertNext(c -> assertChange(c, ids.get(2), Kind.TOPIC, t, "orders.*"))
                .assertNext(c -> assertChange(c, ids.get(3), Kind.QUOTAS, t, null))
                .assertNext(c -> {
                    assertThat(c.kind()).isEqualTo(Kind.HEARTBEAT);
                    assertThat(c.id()).isGreaterThanOrEqualTo(ids.get(3));
                })
                .thenCancel()
                .verify(Duration.ofSeconds(15));

        // resuming from the middle replays only what follows
        StepVerifier.create(feedOf(t, ids.get(1)))
                .assertNext(c -> assertChange(c, ids.get(2), Kind.TOPIC, t, "orders.*"))
                .assertNext(c -> assertChange(c, ids.get(3), Kind.QUOTAS, t, null))
                .thenCancel()
                .verify(Duration.ofSeconds(15));
    }

    @Test
    void replaysLongHistoriesPageByPageWithoutGaps() {
        long before = latestChangeId();
        String t = newTenantId();
        // one transaction holding the writers' lock, as ChangeLog does
        execute("WITH l AS (SELECT pg_advisory_xact_lock(" + 0x7265676368616e67L + ")) "
                + "INSERT INTO changes (tenant_id, kind, ref) SELECT ?, 'topic', 'bulk-' || g FROM generate_series(1, 1234) g, l", t);
        StepVerifier.create(feedOf(t, before).filter(c -> c.kind() != Kind.HEARTBEAT).take(1234).map(RegistryChange::ref).collectList())
                .assertNext(refs -> {
                    assertThat(refs).hasSize(1234).doesNotHaveDuplicates();
                    assertThat(refs.get(0)).isEqualTo("bulk-1");
                    assertThat(refs.get(1233)).isEqualTo("bulk-1234");
                })
                .verifyComplete();
    }

    @Test
    void idleFeedsSendHeartbeatsWithTheLatestId() {
        long latest = latestChangeId();
        StepVerifier.create(feed(null).filter(c -> c.kind() == Kind.HEARTBEAT).take(4).collectList())
                .assertNext(beats -> {
                    assertThat(beats).allSatisfy(beat -> {
                        assertThat(beat.id()).isGreaterThanOrEqualTo(latest);
                        assertThat(beat.tenant()).isNull();
                        assertThat(beat.ref()).isNull();
                        assertThat(beat.at()).isNotNull();
                    });
                    // ids never go backwards
                    assertThat(beats).extracting(RegistryChange::id).isSorted();
                    // periodic (every 0.5 s in tests), not a burst: consecutive beats at least 0.2 s apart
                    for (int i = 2; i < beats.size(); i++) {
                        assertThat(Duration.between(beats.get(i - 1).at(), beats.get(i).at()))
                                .isGreaterThanOrEqualTo(Duration.ofMillis(200));
                    }
                })
                .expectComplete()
                .verify(Duration.ofSeconds(20));
    }

    @Test
    void callersBehindThePrunedHorizonGetAResetLine() {
        String t = newTenantId();
        createTenant(t);
        long mine = (Long) sql("SELECT max(id) FROM changes WHERE tenant_id = ?", t).get(0).get(0);
        // age every change so far past the retention (1 h); the pruner (every 0.2 s in tests) removes them
        execute("UPDATE changes SET at = now() - interval '2 hours' WHERE id <= ?", mine);
        Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(count("SELECT pruned_through FROM change_horizon")).isGreaterThanOrEqualTo(mine));
        assertThat(count("SELECT count(*) FROM changes WHERE id <= ?", mine)).isZero();

        StepVerifier.create(feed(mine - 1))
                .assertNext(reset -> {
                    assertThat(reset.kind()).isEqualTo(Kind.TENANT);
                    assertThat(reset.tenant()).isEqualTo("*");
                    assertThat(reset.ref()).isEqualTo("reset");
                    assertThat(reset.id()).isGreaterThanOrEqualTo(mine);
                })
                .assertNext(heartbeat -> assertThat(heartbeat.kind()).isEqualTo(Kind.HEARTBEAT))
                .thenCancel()
                .verify(Duration.ofSeconds(15));

        // exactly at the horizon nothing was lost: no reset
        long horizon = count("SELECT pruned_through FROM change_horizon");
        StepVerifier.create(feed(horizon))
                .assertNext(first -> assertThat(first.ref()).isNotEqualTo("reset"))
                .thenCancel()
                .verify(Duration.ofSeconds(15));

        // a position this database never issued (another database, a restore) also resets
        StepVerifier.create(feed(Long.MAX_VALUE / 2))
                .assertNext(reset -> {
                    assertThat(reset.tenant()).isEqualTo("*");
                    assertThat(reset.ref()).isEqualTo("reset");
                    assertThat(reset.id()).isLessThan(Long.MAX_VALUE / 2);
                })
                .thenCancel()
                .verify(Duration.ofSeconds(15));
    }

    @Test
    void survivesALostListenConnection() {
        double failures = meters.counter("registry.changes.listen.failures").count();
        execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                + "WHERE datname = current_database() AND query = 'LISTEN registry_changes'");
        Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(meters.counter("registry.changes.listen.failures").count()).isGreaterThan(failures));
        Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        + "AND query = 'LISTEN registry_changes'")).isEqualTo(1));
        anAdminChangeArrivesWithinOneSecond();
    }

    @Test
    void badAfterIsRefused() {
        for (String after : new String[] {"-1", "abc", "1.5", "99999999999999999999"}) {
            assertProblem(service().get().uri("/internal/v1/changes?after={a}", after).accept(NDJSON).exchange(),
                    HttpStatus.BAD_REQUEST, "invalid_request");
        }
    }

    private static void assertChange(RegistryChange change, long id, Kind kind, String tenant, String ref) {
        assertThat(change.id()).isEqualTo(id);
        assertThat(change.kind()).isEqualTo(kind);
        assertThat(change.tenant()).isEqualTo(tenant);
        assertThat(change.ref()).isEqualTo(ref);
    }
}
