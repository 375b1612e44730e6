package dev.switchboard.contracts.registry;

import com.fasterxml.jackson.annotation.JsonFormat;

import java.time.Duration;

/**
 * Every setting of a declared topic or pattern, defaults filled in. Durations travel as ISO-8601
 * strings: {@code P7D} reads, {@link Duration#toString()} writes ({@code PT168H}); the shape is
 * pinned here so that a mapper configured to write durations as numbers cannot change the wire.
 * {@code defaultTtl} may be null (no expiry unless the producer sets one).
 */
public record TopicSettings(
        int partitions,
        @JsonFormat(shape = JsonFormat.Shape.STRING) Duration retention,
        @JsonFormat(shape = JsonFormat.Shape.STRING) Duration dedupWindow,
        @JsonFormat(shape = JsonFormat.Shape.STRING) Duration defaultTtl,
        int maxPayloadBytes,
        SchemaVersions schemaVersions,
        long maxLag,
        LagPolicy lagPolicy,
        int maxAttempts,
        PublishRate publishRate) {

    public static final int DEFAULT_PARTITIONS = 1;
    public static final Duration DEFAULT_RETENTION = Duration.ofDays(7);
    public static final Duration DEFAULT_DEDUP_WINDOW = Duration.ofHours(24);
    public static final int DEFAULT_MAX_PAYLOAD_BYTES = 65_536;
    public static final long DEFAULT_MAX_LAG = 100_000;
    public static final LagPolicy DEFAULT_LAG_POLICY = LagPolicy.THROTTLE;
    public static final int DEFAULT_MAX_ATTEMPTS = 5;

    /** The accepted range of {@code schemaversion}, both ends included. */
    public record SchemaVersions(int min, int max) {
        public static final SchemaVersions DEFAULT = new SchemaVersions(1, 1);

        public boolean accepts(int version) {
            return version >= min && version <= max;
        }
    }

    /** The topic's own token bucket. */
    public record PublishRate(int perSecond, int burst) {
        public static final PublishRate DEFAULT = new PublishRate(1000, 2000);
    }

    /** The settings of {@code PROTOCOL.md}'s defaults. */
    public static TopicSettings defaults() {
        return new TopicSettings(DEFAULT_PARTITIONS, DEFAULT_RETENTION, DEFAULT_DEDUP_WINDOW, null,
                DEFAULT_MAX_PAYLOAD_BYTES, SchemaVersions.DEFAULT, DEFAULT_MAX_LAG, DEFAULT_LAG_POLICY,
                DEFAULT_MAX_ATTEMPTS, PublishRate.DEFAULT);
    }
}
