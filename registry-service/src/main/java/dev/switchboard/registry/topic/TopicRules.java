package dev.switchboard.registry.topic;

import dev.switchboard.contracts.registry.LagPolicy;
import dev.switchboard.contracts.registry.TopicSettings;
import dev.switchboard.contracts.registry.TopicSettings.PublishRate;
import dev.switchboard.contracts.registry.TopicSettings.SchemaVersions;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.registry.api.Durations;
import dev.switchboard.registry.api.JsonBody;

import java.time.Duration;

/**
 * The bounds of every topic setting and how a PUT body becomes a full {@link TopicSettings}:
 * absent or {@code null} fields take the defaults of {@code TopicSettings} (nested ones too), then
 * the result is checked as a whole, so every rejection names the field and the rule it broke.
 */
final class TopicRules {

    static final int MAX_PARTITIONS = 256;
    static final Duration MIN_RETENTION = Duration.ofMinutes(1);
    static final Duration MAX_RETENTION = Duration.ofDays(3650);
    static final Duration MAX_DEDUP_WINDOW = Duration.ofDays(30);
    static final Duration MIN_TTL = Duration.ofSeconds(1);
    static final int MAX_PAYLOAD_BYTES = 1_048_576;
    static final int MAX_SCHEMA_VERSION = 1_000_000;
    static final long MAX_LAG = 10_000_000_000L;
    static final int MAX_ATTEMPTS = 100;
    static final int MAX_PER_SECOND = 1_000_000;
    static final int MAX_BURST = 10_000_000;

    private TopicRules() {
    }

    static TopicSettings parse(JsonBody body) {
        body.allowOnly("partitions", "retention", "dedupWindow", "defaultTtl", "maxPayloadBytes", "schemaVersions",
                "maxLag", "lagPolicy", "maxAttempts", "publishRate");
        int partitions = or(body.intOrNull("partitions", 1, MAX_PARTITIONS), TopicSettings.DEFAULT_PARTITIONS);
        Duration retention = or(body.durationOrNull("retention", MIN_RETENTION, MAX_RETENTION), TopicSettings.DEFAULT_RETENTION);
        Duration dedupWindow = or(body.durationOrNull("dedupWindow", Duration.ZERO, MAX_DEDUP_WINDOW),
                TopicSettings.DEFAULT_DEDUP_WINDOW);
        if (dedupWindow.compareTo(retention) > 0) {
            throw SwitchboardException.invalid("dedupWindow (" + Durations.format(dedupWindow)
                    + ") must not be longer than retention (" + Durations.format(retention) + ").");
        }
        Duration defaultTtl = body.durationOrNull("defaultTtl", MIN_TTL, MAX_RETENTION);
        if (defaultTtl != null && defaultTtl.compareTo(retention) > 0) {
            throw SwitchboardException.invalid("defaultTtl (" + Durations.format(defaultTtl)
                    + ") must not be longer than retention (" + Durations.format(retention) + ").");
        }
        int maxPayloadBytes = or(body.intOrNull("maxPayloadBytes", 1, MAX_PAYLOAD_BYTES), TopicSettings.DEFAULT_MAX_PAYLOAD_BYTES);
        SchemaVersions schemaVersions = schemaVersions(body.objectOrNull("schemaVersions"));
        long maxLag = or(body.longOrNull("maxLag", 1, MAX_LAG), TopicSettings.DEFAULT_MAX_LAG);
        LagPolicy lagPolicy = lagPolicy(body);
        int maxAttempts = or(body.intOrNull("maxAttempts", 1, MAX_ATTEMPTS), TopicSettings.DEFAULT_MAX_ATTEMPTS);
        PublishRate publishRate = publishRate(body.objectOrNull("publishRate"));
        return new TopicSettings(partitions, retention, dedupWindow, defaultTtl, maxPayloadBytes, schemaVersions,
                maxLag, lagPolicy, maxAttempts, publishRate);
    }

    private static SchemaVersions schemaVersions(JsonBody body) {
        if (body == null) {
            return SchemaVersions.DEFAULT;
        }
        body.allowOnly("min", "max");
        int min = or(body.intOrNull("min", 1, MAX_SCHEMA_VERSION), SchemaVersions.DEFAULT.min());
        int max = or(body.intOrNull("max", 1, MAX_SCHEMA_VERSION), SchemaVersions.DEFAULT.max());
        if (min > max) {
            throw SwitchboardException.invalid(body.field("min") + " (" + min + ") must not exceed "
                    + body.field("max") + " (" + max + ").");
        }
        return new SchemaVersions(min, max);
    }

    private static PublishRate publishRate(JsonBody body) {
        if (body == null) {
            return PublishRate.DEFAULT;
        }
        body.allowOnly("perSecond", "burst");
        int perSecond = or(body.intOrNull("perSecond", 1, MAX_PER_SECOND), PublishRate.DEFAULT.perSecond());
        int burst = or(body.intOrNull("burst", 1, MAX_BURST), PublishRate.DEFAULT.burst());
        if (burst < perSecond) {
            throw SwitchboardException.invalid(body.field("burst") + " (" + burst + ") must be at least "
                    + body.field("perSecond") + " (" + perSecond + ").");
        }
        return new PublishRate(perSecond, burst);
    }

    private static LagPolicy lagPolicy(JsonBody body) {
        String wire = body.stringOrNull("lagPolicy");
        if (wire == null) {
            return TopicSettings.DEFAULT_LAG_POLICY;
        }
        try {
            return LagPolicy.fromWire(wire);
        } catch (IllegalArgumentException e) {
            throw SwitchboardException.invalid("lagPolicy must be one of \"throttle\", \"shed\", \"none\".");
        }
    }

    private static <T> T or(T value, T fallback) {
        return value == null ? fallback : value;
    }
}
