package dev.switchboard.registry.change;

import dev.switchboard.contracts.registry.AppliedReport;
import dev.switchboard.registry.config.RegistryProperties;
import dev.switchboard.registry.presence.GatewayConnections;
import dev.switchboard.platform.problem.SwitchboardException;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Service;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Revocations that hold from the moment they are answered. Every process that follows the change
 * feed (each gateway, each delivery instance) reports the highest change id it has applied — its
 * cache no longer trusts what those changes invalidate — after each change and with each feed
 * heartbeat, and says when it stops. A revocation commits its change, then waits here until every
 * live subscriber has applied it (a few milliseconds: one feed line and one report), so a request a
 * revoked key or a deleted tenant sends after the answer finds no cache anywhere that still accepts it.
 *
 * <p>A subscriber that does not confirm within {@code revocation-barrier} (a partitioned or frozen
 * process whose report has not expired yet) is named in a warning and the revocation is answered
 * anyway: by then its feed has been silent for longer than its client allows and it serves no cached
 * answer older than {@code degraded-max-age}. Metric: {@code switchboard.registry.revocation.barrier}
 * (timer; tag {@code outcome}: {@code applied|timeout}).
 */
@Service
public class ChangeBarrier {

    private static final Logger log = LoggerFactory.getLogger(ChangeBarrier.class);
    static final Duration POLL = Duration.ofMillis(5);
    private static final int NAMED = 10;

    private final DatabaseClient db;
    private final Duration timeout;
    private final Timer applied;
    private final Timer timedOut;

    ChangeBarrier(DatabaseClient db, RegistryProperties properties, MeterRegistry meters) {
        this.db = db;
        this.timeout = properties.revocationBarrier();
        Timer.Builder timer = Timer.builder("switchboard.registry.revocation.barrier")
                .description("From a revocation's commit until every live change-feed subscriber had applied it (or the wait gave up)");
        this.applied = timer.tag("outcome", "applied").register(meters);
        this.timedOut = timer.tag("outcome", "timeout").register(meters);
    }

    /** A subscriber's report: it replaces the previous one and counts until it expires. */
    public Mono<Void> report(String subscriber, AppliedReport report) {
        return Mono.defer(() -> {
            GatewayConnections.requireProcessId(subscriber, "A subscriber id");
            if (report == null) {
                throw SwitchboardException.invalid("A body {\"appliedThrough\":…,\"ttlMs\":…} is required.");
            }
            if (report.appliedThrough() < 0) {
                throw SwitchboardException.invalid("appliedThrough must be a change id (an integer >= 0).");
            }
            GatewayConnections.requireTtl(report.ttlMs());
            return db.sql("DELETE FROM change_subscribers WHERE expires_at < now() - interval '1 minute'").then()
                    .then(db.sql("""
                                    INSERT INTO change_subscribers (subscriber_id, applied_through, expires_at)
                                    VALUES (:subscriber, :through, now() + :ttl * interval '1 millisecond')
                                    ON CONFLICT (subscriber_id) DO UPDATE SET expires_at = EXCLUDED.expires_at,
                                        applied_through = GREATEST(change_subscribers.applied_through, EXCLUDED.applied_through)""")
                            .bind("subscriber", subscriber).bind("through", report.appliedThrough()).bind("ttl", report.ttlMs())
                            .then());
        });
    }

    /** A subscriber that stops: it is not waited for. */
    public Mono<Void> leave(String subscriber) {
        return Mono.defer(() -> {
            GatewayConnections.requireProcessId(subscriber, "A subscriber id");
            return db.sql("DELETE FROM change_subscribers WHERE subscriber_id = :subscriber").bind("subscriber", subscriber).then();
        });
    }

    /** Completes once every live subscriber has applied change {@code id}, or after the barrier's timeout. Never fails. */
    public Mono<Void> applied(long id) {
        AtomicReference<List<String>> behind = new AtomicReference<>(List.of());
        long started = System.nanoTime();
        return Mono.defer(() -> db.sql("""
                                SELECT subscriber_id FROM change_subscribers WHERE applied_through < :id AND expires_at >= now()
                                ORDER BY subscriber_id LIMIT :n""")
                        .bind("id", id).bind("n", NAMED)
                        .map(row -> row.get("subscriber_id", String.class))
                        .all()
                        .collectList())
                .doOnNext(behind::set)
                .repeatWhen(checks -> checks.delayElements(POLL))
                .takeUntil(List::isEmpty)
                .then()
                .timeout(timeout)
                .doOnSuccess(done -> applied.record(Duration.ofNanos(System.nanoTime() - started)))
                .onErrorResume(e -> {
                    timedOut.record(Duration.ofNanos(System.nanoTime() - started));
                    if (e instanceof TimeoutException) {
                        log.warn("Change {} was answered before {} confirmed it within {}: they trust no cached answer "
                                + "older than their degraded-max-age by now", id, behind.get(), timeout);
                    } else {
                        log.warn("Waiting for the change feed's subscribers to apply change {} failed; answered anyway: {}",
                                id, e.toString());
                    }
                    return Mono.empty();
                });
    }
}
