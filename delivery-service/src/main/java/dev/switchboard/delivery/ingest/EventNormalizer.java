package dev.switchboard.delivery.ingest;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.registry.ResolvedTopic;
import dev.switchboard.contracts.registry.TenantQuotas;
import dev.switchboard.contracts.registry.TopicSettings;
import dev.switchboard.platform.problem.SwitchboardException;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;

/**
 * Turns what a producer sent into the event the log stores: validated against the producer rules
 * and the topic's settings, server attributes filled in ({@code id} when absent, {@code source},
 * {@code time} = accept time, {@code tenant}, {@code topic}, {@code expiresat}, {@code traceparent}
 * when absent), and its partition chosen. {@code seq} is added at commit.
 */
@Component
class EventNormalizer {

    private static final SecureRandom RANDOM = new SecureRandom();

    private final JsonMapper json;

    EventNormalizer(JsonMapper json) {
        this.json = json;
    }

    PendingEvent normalize(ObjectNode sent, ResolvedTopic topic, TenantQuotas quotas, Instant acceptedAt, int index) {
        String where = index < 0 ? "" : "events[" + index + "]: ";
        List<String> violations = ProducerRules.violations(sent);
        if (!violations.isEmpty()) {
            throw SwitchboardException.invalid(where + String.join("; ", violations));
        }
        TopicSettings settings = topic.settings();
        int limit = Math.min(settings.maxPayloadBytes(), quotas.maxPayloadBytes());
        int size = payloadBytes(sent);
        if (size > limit) {
            throw new SwitchboardException(ErrorCode.PAYLOAD_TOO_LARGE,
                    where + "The event's data is " + size + " bytes; this topic accepts at most " + limit + ".");
        }
        JsonNode schemaVersion = sent.get("schemaversion");
        if (schemaVersion != null && !settings.schemaVersions().accepts(schemaVersion.asInt())) {
            throw new SwitchboardException(ErrorCode.UNSUPPORTED_SCHEMA_VERSION, where + "schemaversion " + schemaVersion.asInt()
                    + " is outside the topic's accepted range " + settings.schemaVersions().min() + ".." + settings.schemaVersions().max() + ".");
        }
        Instant time = acceptedAt.truncatedTo(ChronoUnit.MICROS);
        Duration ttl = sent.hasNonNull("ttl") ? Duration.ofSeconds(sent.get("ttl").asLong()) : settings.defaultTtl();
        Instant expiresAt = ttl == null ? null : time.plus(ttl);
        String id = sent.hasNonNull("id") ? sent.get("id").asString() : uuid7(time).toString();
        String partitionKey = sent.hasNonNull("partitionkey") ? sent.get("partitionkey").asString() : null;
        int partition = PartitionChooser.partition(partitionKey, settings.partitions());

        // Attribute order: context attributes first, data last, so stored events read naturally.
        ObjectNode event = json.createObjectNode();
        event.put("specversion", "1.0");
        event.put("id", id);
        event.put("source", sent.hasNonNull("source") ? sent.get("source").asString() : "/v1/topics/" + topic.topic());
        event.put("type", sent.get("type").asString());
        event.put("time", time.toString());
        event.put("tenant", topic.tenant());
        event.put("topic", topic.topic());
        sent.properties().forEach(field -> {
            String name = field.getKey();
            if (!event.has(name) && !name.equals("data") && !name.equals("data_base64") && !name.equals("seq")
                    && !name.equals("partition") && !name.equals("expiresat")) {
                event.set(name, field.getValue());
            }
        });
        if (ttl != null && !event.has("ttl")) {
            event.put("ttl", ttl.toSeconds());
        }
        if (expiresAt != null) {
            event.put("expiresat", expiresAt.toString());
        }
        if (!event.has("traceparent")) {
            event.put("traceparent", newTraceparent());
        }
        if (sent.has("data")) {
            if (!event.has("datacontenttype")) {
                event.put("datacontenttype", "application/json");
            }
            event.set("data", sent.get("data"));
        } else if (sent.has("data_base64")) {
            event.set("data_base64", sent.get("data_base64"));
        }
        return new PendingEvent(topic.tenant(), topic.topic(), partition, id, time, expiresAt, settings.dedupWindow(), event);
    }

    private int payloadBytes(ObjectNode sent) {
        if (sent.has("data")) {
            return json.writeValueAsString(sent.get("data")).getBytes(StandardCharsets.UTF_8).length;
        }
        if (sent.hasNonNull("data_base64")) {
            // Decoded size, without decoding: 3 bytes per 4 characters.
            String b64 = sent.get("data_base64").asString();
            return b64.length() / 4 * 3;
        }
        return 0;
    }

    private static String newTraceparent() {
        byte[] trace = new byte[16];
        byte[] span = new byte[8];
        RANDOM.nextBytes(trace);
        RANDOM.nextBytes(span);
        trace[0] |= 1;
        span[0] |= 1;
        return "00-" + HexFormat.of().formatHex(trace) + "-" + HexFormat.of().formatHex(span) + "-01";
    }

    /** PLACEHOLDER until shared-contracts' Uuid7 lands. */
    private static UUID uuid7(Instant time) {
        long ms = time.toEpochMilli();
        long msb = (ms << 16) | 0x7000L | (RANDOM.nextInt() & 0x0fffL);
        long lsb = (RANDOM.nextLong() & 0x3fffffffffffffffL) | 0x8000000000000000L;
        return new UUID(msb, lsb);
    }
}
