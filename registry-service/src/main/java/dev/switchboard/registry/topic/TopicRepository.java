package dev.switchboard.registry.topic;

import dev.switchboard.contracts.registry.TopicSettings;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** SQL on {@code topics}. */
@Repository
class TopicRepository {

    /** More candidates than any sane set of overlapping patterns; the first is the winner anyway. */
    static final int RESOLVE_CANDIDATES = 16;

    private final DatabaseClient db;

    TopicRepository(DatabaseClient db) {
        this.db = db;
    }

    record Upserted(TopicRow row, boolean created) {
    }

    /**
     * Inserts or replaces the declaration in one statement. Empty when a declaration exists with
     * more partitions: partitions only grow, since events already live in the higher ones.
     */
    Mono<Upserted> upsert(String tenant, String name, TopicShape shape, TopicSettings s) {
        DatabaseClient.GenericExecuteSpec spec = db.sql("""
                        INSERT INTO topics (tenant_id, name, is_pattern, match_regex, literal_segments, has_tail, segment_count,
                            partitions, retention_ms, dedup_window_ms, default_ttl_ms, max_payload_bytes, schema_min, schema_max,
                            max_lag, lag_policy, max_attempts, publish_per_second, publish_burst)
                        VALUES (:tenant, :name, :pattern, :regex, :literals, :tail, :segments,
                            :partitions, :retention, :dedup, :ttl, :payload, :schemaMin, :schemaMax,
                            :maxLag, :lagPolicy, :maxAttempts, :perSecond, :burst)
                        ON CONFLICT (tenant_id, name) DO UPDATE SET
                            partitions = EXCLUDED.partitions, retention_ms = EXCLUDED.retention_ms,
                            dedup_window_ms = EXCLUDED.dedup_window_ms, default_ttl_ms = EXCLUDED.default_ttl_ms,
                            max_payload_bytes = EXCLUDED.max_payload_bytes, schema_min = EXCLUDED.schema_min,
                            schema_max = EXCLUDED.schema_max, max_lag = EXCLUDED.max_lag, lag_policy = EXCLUDED.lag_policy,
                            max_attempts = EXCLUDED.max_attempts, publish_per_second = EXCLUDED.publish_per_second,
                            publish_burst = EXCLUDED.publish_burst, updated_at = now()
                        WHERE topics.partitions <= EXCLUDED.partitions
                        RETURNING (xmax = 0) AS inserted, """ + TopicRow.COLUMNS)
                .bind("tenant", tenant)
                .bind("name", name)
                .bind("pattern", shape.pattern())
                .bind("regex", shape.regex())
                .bind("literals", shape.literalSegments())
                .bind("tail", shape.tail())
                .bind("segments", shape.segmentCount())
                .bind("partitions", s.partitions())
                .bind("retention", s.retention().toMillis())
                .bind("dedup", s.dedupWindow().toMillis())
                .bind("payload", s.maxPayloadBytes())
                .bind("schemaMin", s.schemaVersions().min())
                .bind("schemaMax", s.schemaVersions().max())
                .bind("maxLag", s.maxLag())
                .bind("lagPolicy", s.lagPolicy().wire())
                .bind("maxAttempts", s.maxAttempts())
                .bind("perSecond", s.publishRate().perSecond())
                .bind("burst", s.publishRate().burst());
        spec = s.defaultTtl() == null ? spec.bindNull("ttl", Long.class) : spec.bind("ttl", s.defaultTtl().toMillis());
        return spec.map(row -> new Upserted(TopicRow.from(row), Boolean.TRUE.equals(row.get("inserted", Boolean.class))))
                .one();
    }

    Mono<Integer> partitions(String tenant, String name) {
        return db.sql("SELECT partitions FROM topics WHERE tenant_id = :tenant AND name = :name")
                .bind("tenant", tenant)
                .bind("name", name)
                .map(row -> row.get("partitions", Integer.class))
                .one();
    }

    Mono<TopicRow> find(String tenant, String name) {
        return db.sql("SELECT " + TopicRow.COLUMNS + " FROM topics WHERE tenant_id = :tenant AND name = :name")
                .bind("tenant", tenant)
                .bind("name", name)
                .map(TopicRow::from)
                .one();
    }

    /** The exact declaration of a concrete name and the patterns matching it, most specific first. */
    Flux<TopicRow> candidates(String tenant, String topic) {
        return db.sql("SELECT " + TopicRow.COLUMNS + " FROM topics WHERE tenant_id = :tenant "
                        + "AND (name = :topic OR (is_pattern AND :topic ~ match_regex)) "
                        + "ORDER BY is_pattern, literal_segments DESC, has_tail, segment_count DESC, name "
                        + "LIMIT " + RESOLVE_CANDIDATES)
                .bind("tenant", tenant)
                .bind("topic", topic)
                .map(TopicRow::from)
                .all();
    }

    Flux<TopicRow> page(String tenant, String after, int limit) {
        return db.sql("SELECT " + TopicRow.COLUMNS + " FROM topics WHERE tenant_id = :tenant AND name > :after "
                        + "ORDER BY name LIMIT :limit")
                .bind("tenant", tenant)
                .bind("after", after)
                .bind("limit", limit)
                .map(TopicRow::from)
                .all();
    }

    Mono<Boolean> delete(String tenant, String name) {
        return db.sql("DELETE FROM topics WHERE tenant_id = :tenant AND name = :name")
                .bind("tenant", tenant)
                .bind("name", name)
                .fetch().rowsUpdated()
                .map(n -> n > 0);
    }
}
