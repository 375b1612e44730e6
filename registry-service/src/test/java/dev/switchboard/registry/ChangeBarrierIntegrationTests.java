package dev.switchboard.registry;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The revocation barrier (#16, defect 3): a key or tenant deletion is answered once every live
 * change-feed subscriber has reported it applied the change, or after {@code revocation-barrier}
 * (1.5 s here) when one does not.
 */
class ChangeBarrierIntegrationTests extends RegistryIntegrationTest {

    private static final String SUBSCRIBERS = "/internal/v1/changes/subscribers/{s}";

    @Autowired
    MeterRegistry meters;

    private void report(String subscriber, long appliedThrough, long ttlMs) {
        service().put().uri(SUBSCRIBERS, subscriber).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("appliedThrough", appliedThrough, "ttlMs", ttlMs))
                .exchange().expectStatus().isNoContent();
    }

    private void leave(String subscriber) {
        service().delete().uri(SUBSCRIBERS, subscriber).exchange().expectStatus().isNoContent();
    }

    private String keyId(String tenant) {
        Map<String, Object> body = admin().post().uri("/admin/v1/tenants/{t}/keys", tenant).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("name", "key", "scopes", List.of("publish"))).exchange().expectStatus().isCreated()
                .expectBody(new ParameterizedTypeReference<Map<String, Object>>() {
                }).returnResult().getResponseBody();
        return (String) body.get("id");
    }

    /** Deletes, asserts 204, returns how long the answer took. */
    private Duration timedDelete(String uri, Object... vars) {
        long started = System.nanoTime();
        admin().delete().uri(uri, vars).exchange().expectStatus().isNoContent();
        return Duration.ofNanos(System.nanoTime() - started);
    }

    private double barrier(String outcome) {
        Timer timer = meters.find("switchboard.registry.revocation.barrier").tag("outcome", outcome).timer();
        return timer == null ? 0 : timer.count();
    }

    private static long latestChangeId() {
        return count("SELECT coalesce(max(id), 0) FROM changes");
    }

    @Test
    void aRevocationWaitsForALiveSubscriberThatHasNotAppliedItAndNotForOneThatLeft() {
        String tenant = newTenantId();
        createTenant(tenant);
        String behind = "gateway-service-barrier1";
        report(behind, latestChangeId(), 10_000);
        try {
            // It never confirms: answered after the barrier's 1.5 s, with the wait counted as a timeout.
            double timeouts = barrier("timeout");
            assertThat(timedDelete("/admin/v1/tenants/{t}/keys/{id}", tenant, keyId(tenant))).isBetween(Duration.ofMillis(1400),
                    Duration.ofSeconds(5));
            assertThat(barrier("timeout")).isEqualTo(timeouts + 1);

            // It confirms 300 ms into the wait: answered then, not at the timeout.
            String id = keyId(tenant);
            double applied = barrier("applied");
            CompletableFuture<Void> confirm = CompletableFuture.runAsync(() -> {
                try {
                    Thread.sleep(300);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                report(behind, latestChangeId(), 10_000);
            });
            assertThat(timedDelete("/admin/v1/tenants/{t}/keys/{id}", tenant, id)).isBetween(Duration.ofMillis(250), Duration.ofMillis(1300));
            confirm.join();
            assertThat(barrier("applied")).isEqualTo(applied + 1);

            // A tenant's deletion waits the same way.
            assertThat(timedDelete("/admin/v1/tenants/{t}", tenant)).isGreaterThanOrEqualTo(Duration.ofMillis(1400));
        } finally {
            leave(behind);
        }
        // Gone (it stopped): nobody to wait for.
        String other = newTenantId();
        createTenant(other);
        assertThat(timedDelete("/admin/v1/tenants/{t}/keys/{id}", other, keyId(other))).isLessThan(Duration.ofMillis(1000));
        // A report that expired counts no more either.
        report("gateway-service-barrier2", 0, 1_000);
        sleep(1_200);
        assertThat(timedDelete("/admin/v1/tenants/{t}/keys/{id}", other, keyId(other))).isLessThan(Duration.ofMillis(1000));
        leave("gateway-service-barrier2");
    }

    @Test
    void aReportOnlyMovesForwardAndBadOnesAreRefused() {
        String subscriber = "gateway-service-barrier3";
        long latest = latestChangeId();
        report(subscriber, latest, 10_000);
        try {
            // An older position (a report overtaken by a later one) does not move it back.
            report(subscriber, 0, 10_000);
            assertThat(count("SELECT applied_through FROM change_subscribers WHERE subscriber_id = ?", subscriber)).isEqualTo(latest);
        } finally {
            leave(subscriber);
        }
        assertThat(count("SELECT count(*) FROM change_subscribers WHERE subscriber_id = ?", subscriber)).isZero();
        for (Map<String, Object> bad : List.of(Map.<String, Object>of("appliedThrough", -1, "ttlMs", 5_000),
                Map.<String, Object>of("appliedThrough", 1, "ttlMs", 10), Map.<String, Object>of("appliedThrough", 1, "ttlMs", 3_600_000))) {
            assertProblem(service().put().uri(SUBSCRIBERS, subscriber).contentType(MediaType.APPLICATION_JSON).bodyValue(bad).exchange(),
                    HttpStatus.BAD_REQUEST, "invalid_request");
        }
        assertProblem(service().put().uri(SUBSCRIBERS, "bad.name").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("appliedThrough", 1, "ttlMs", 5_000)).exchange(), HttpStatus.BAD_REQUEST, "invalid_request");
        assertProblem(service().put().uri(SUBSCRIBERS, subscriber).contentType(MediaType.APPLICATION_JSON).exchange(),
                HttpStatus.BAD_REQUEST, "invalid_request");
        // The admin token is not the service token.
        admin().put().uri(SUBSCRIBERS, subscriber).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("appliedThrough", 1, "ttlMs", 5_000)).exchange().expectStatus().isUnauthorized();
        assertThat(count("SELECT count(*) FROM change_subscribers WHERE subscriber_id = ?", subscriber)).isZero();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
