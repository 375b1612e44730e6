package dev.switchboard.registry.change;

import dev.switchboard.contracts.registry.RegistryChange;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.time.Instant;

/** SQL on {@code changes} and {@code change_horizon}. */
@Repository
class ChangeRepository {

    private final DatabaseClient db;

    ChangeRepository(DatabaseClient db) {
        this.db = db;
    }

    /** Where the feed stands: the newest committed id, the highest pruned id, and the sequence's high-water mark. */
    record Position(long latest, long prunedThrough, long issuedThrough) {
    }

    Flux<RegistryChange> after(long after, int limit) {
        return db.sql("SELECT id, tenant_id, kind, ref, at FROM changes WHERE id > :after ORDER BY id LIMIT :limit")
                .bind("after", after)
                .bind("limit", limit)
                .map(row -> new RegistryChange(row.get("id", Long.class),
                        RegistryChange.Kind.fromWire(row.get("kind", String.class)),
                        row.get("tenant_id", String.class), row.get("ref", String.class), row.get("at", Instant.class)))
                .all();
    }

    Mono<Position> position() {
        return db.sql("""
                        SELECT (SELECT pruned_through FROM change_horizon) AS pruned,
                               (SELECT max(id) FROM changes) AS latest,
                               (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM changes_id_seq) AS issued""")
                .map(row -> {
                    long pruned = row.get("pruned", Long.class);
                    Long latest = row.get("latest", Long.class);
                    return new Position(latest == null ? pruned : Math.max(latest, pruned), pruned, row.get("issued", Long.class));
                })
                .one();
    }

    /**
     * Deletes up to {@code limit} of the oldest changes older than {@code retention} and moves the
     * horizon past them, in one statement; returns how many went.
     */
    Mono<Long> prune(Duration retention, int limit) {
        return db.sql("""
                        WITH doomed AS (
                            SELECT id FROM changes WHERE at < now() - :retentionMs * interval '1 millisecond'
                            ORDER BY id LIMIT :limit),
                        gone AS (DELETE FROM changes c USING doomed d WHERE c.id = d.id RETURNING c.id),
                        moved AS (
                            UPDATE change_horizon SET pruned_through = GREATEST(pruned_through, (SELECT max(id) FROM gone))
                            WHERE EXISTS (SELECT 1 FROM gone) RETURNING pruned_through)
                        SELECT count(*) AS n FROM gone""")
                .bind("retentionMs", retention.toMillis())
                .bind("limit", limit)
                .map(row -> row.get("n", Long.class))
                .one();
    }
}
