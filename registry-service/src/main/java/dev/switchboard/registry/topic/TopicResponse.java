package dev.switchboard.registry.topic;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.switchboard.contracts.registry.LagPolicy;
import dev.switchboard.contracts.registry.TopicSettings;
import dev.switchboard.registry.api.Durations;

import java.time.Instant;

/**
 * A topic declaration as the admin API shows it, durations written readably ({@code P7D}, else
 * {@code PT…}). {@code declaredBy} appears only on the effective settings of an undeclared concrete
 * name: the pattern they come from.
 */
@JsonPropertyOrder({"name", "pattern", "declaredBy", "partitions", "retention", "dedupWindow", "defaultTtl",
        "maxPayloadBytes", "schemaVersions", "maxLag", "lagPolicy", "maxAttempts", "publishRate", "createdAt", "updatedAt"})
record TopicResponse(
        String name,
        boolean pattern,
        @JsonInclude(JsonInclude.Include.NON_NULL) String declaredBy,
        int partitions,
        String retention,
        String dedupWindow,
        @JsonInclude(JsonInclude.Include.ALWAYS) String defaultTtl,
        int maxPayloadBytes,
        TopicSettings.SchemaVersions schemaVersions,
        long maxLag,
        LagPolicy lagPolicy,
        int maxAttempts,
        TopicSettings.PublishRate publishRate,
        Instant createdAt,
        Instant updatedAt) {

    static TopicResponse of(TopicRow row) {
        return of(row.name(), row.pattern(), null, row);
    }

    /** The settings {@code topic} gets from the pattern {@code row}. */
    static TopicResponse effective(String topic, TopicRow row) {
        return of(topic, false, row.name(), row);
    }

    private static TopicResponse of(String name, boolean pattern, String declaredBy, TopicRow row) {
        TopicSettings s = row.settings();
        return new TopicResponse(name, pattern, declaredBy, s.partitions(), Durations.format(s.retention()),
                Durations.format(s.dedupWindow()), Durations.format(s.defaultTtl()), s.maxPayloadBytes(),
                s.schemaVersions(), s.maxLag(), s.lagPolicy(), s.maxAttempts(), s.publishRate(),
                row.createdAt(), row.updatedAt());
    }
}
