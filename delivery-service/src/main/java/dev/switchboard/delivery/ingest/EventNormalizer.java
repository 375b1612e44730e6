package dev.switchboard.delivery.ingest;

import dev.switchboard.contracts.envelope.Event;
import dev.switchboard.contracts.envelope.EventRules;
import dev.switchboard.contracts.envelope.Uuid7;
import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.registry.ResolvedTopic;
import dev.switchboard.contracts.registry.TenantQuotas;
import dev.switchboard.contracts.registry.TopicSettings;
import dev.switchboard.platform.problem.SwitchboardException;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Turns what a producer sent into the event the log stores: checked against the producer rules
 * and the topic's settings, server attributes filled in ({@code specversion}; {@code id} (UUIDv7)
 * and {@code source} ({@code /v1/topics/{topic}}) when absent; {@code time} = accept time;
 * {@code tenant}, {@code topic}; {@code expiresat} from {@code ttl} or the topic's default;
 * {@code traceparent} when absent: the publish request's trace, else a new one), its partition chosen, and its envelope rendered here, on the
 * request's thread; only {@code seq} is added at commit.
 */
@Component
class EventNormalizer {

    private final JsonMapper json;

    EventNormalizer(JsonMapper json) {
        this.json = json;
    }

    /** @param requestTrace the publish request's W3C trace context, the default of an event without one (null: a new one) */
    PendingEvent normalize(Event sent, ResolvedTopic topic, TenantQuotas quotas, Instant acceptedAt, int index, String requestTrace) {
        String where = index < 0 ? "" : "events[" + index + "]: ";
        List<String> violations = EventRules.producerViolations(sent);
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
        if (sent.schemaVersion() != null && !settings.schemaVersions().accepts(sent.schemaVersion())) {
            throw new SwitchboardException(ErrorCode.UNSUPPORTED_SCHEMA_VERSION, where + "schemaversion " + sent.schemaVersion()
                    + " is outside the topic's accepted range " + settings.schemaVersions().min() + ".." + settings.schemaVersions().max() + ".");
        }
        Instant time = acceptedAt.truncatedTo(ChronoUnit.MICROS);
        Duration ttl = sent.ttl() != null ? Duration.ofSeconds(sent.ttl()) : settings.defaultTtl();
        Instant expiresAt = ttl == null ? null : time.plus(ttl);
        String id = sent.id() != null ? sent.id() : Uuid7.next().toString();
        int partition = PartitionChooser.partition(sent.partitionKey(), settings.partitions());
        Event.Builder event = sent.toBuilder()
                .specVersion(Event.SPEC_VERSION)
                .id(id)
                .time(time)
                .tenant(topic.tenant())
                .topic(topic.topic())
                .partition(partition)
                .expiresAt(expiresAt);
        if (sent.source() == null) {
            event.source("/v1/topics/" + topic.topic());
        }
        if (sent.ttl() == null && ttl != null) {
            event.ttl((int) ttl.toSeconds());
        }
        if (sent.traceparent() == null) {
            event.traceparent(requestTrace != null ? requestTrace : newTraceparent());
        }
        if (sent.data() != null && sent.dataContentType() == null) {
            event.dataContentType("application/json");
        }
        return new PendingEvent(topic.tenant(), topic.topic(), partition, id, time, expiresAt, settings.dedupWindow(),
                EnvelopeTemplate.render(json, event.build()));
    }

    /** Bytes of the data as sent: the JSON text, or the decoded size of data_base64. */
    private static int payloadBytes(Event sent) {
        if (sent.data() != null) {
            return sent.data().utf8().length;
        }
        if (sent.dataBase64() != null) {
            String b64 = sent.dataBase64();
            int padding = b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0;
            return b64.length() / 4 * 3 - padding;
        }
        return 0;
    }

    private static String newTraceparent() {
        byte[] trace = new byte[16];
        byte[] span = new byte[8];
        // Identifiers, not secrets: a per-thread generator, not SecureRandom (which is shared and
        // synchronised, and was called twice per event on the event loops).
        ThreadLocalRandom random = ThreadLocalRandom.current();
        random.nextBytes(trace);
        random.nextBytes(span);
        trace[0] |= 1;
        span[0] |= 1;
        return "00-" + HexFormat.of().formatHex(trace) + "-" + HexFormat.of().formatHex(span) + "-01";
    }
}
