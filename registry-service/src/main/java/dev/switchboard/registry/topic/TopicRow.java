package dev.switchboard.registry.topic;

import dev.switchboard.contracts.registry.LagPolicy;
import dev.switchboard.contracts.registry.TopicSettings;
import io.r2dbc.spi.Readable;

import java.time.Duration;
import java.time.Instant;

/** A declared topic or pattern with its settings. */
record TopicRow(String name, boolean pattern, TopicSettings settings, Instant createdAt, Instant updatedAt) {

    static final String COLUMNS = "name, is_pattern, partitions, retention_ms, dedup_window_ms, default_ttl_ms, "
            + "max_payload_bytes, schema_min, schema_max, max_lag, lag_policy, max_attempts, publish_per_second, "
            + "publish_burst, created_at, updated_at";

    static TopicRow from(Readable row) {
        Long ttl = row.get("default_ttl_ms", Long.class);
        TopicSettings settings = new TopicSettings(
                row.get("partitions", Integer.class),
                Duration.ofMillis(row.get("retention_ms", Long.class)),
                Duration.ofMillis(row.get("dedup_window_ms", Long.class)),
                ttl == null ? null : Duration.ofMillis(ttl),
                row.get("max_payload_bytes", Integer.class),
                new TopicSettings.SchemaVersions(row.get("schema_min", Integer.class), row.get("schema_max", Integer.class)),
                row.get("max_lag", Long.class),
                LagPolicy.fromWire(row.get("lag_policy", String.class)),
                row.get("max_attempts", Integer.class),
                new TopicSettings.PublishRate(row.get("publish_per_second", Integer.class), row.get("publish_burst", Integer.class)));
        return new TopicRow(row.get("name", String.class), row.get("is_pattern", Boolean.class), settings,
                row.get("created_at", Instant.class), row.get("updated_at", Instant.class));
    }
}
