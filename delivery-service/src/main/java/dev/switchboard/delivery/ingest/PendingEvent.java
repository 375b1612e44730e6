package dev.switchboard.delivery.ingest;

import java.time.Duration;
import java.time.Instant;

/**
 * An accepted, validated event waiting for its seq: everything but {@code seq} is final.
 *
 * @param dedupWindow zero when the topic keeps no dedup window
 * @param envelope    the stored envelope, rendered but for its seq
 */
record PendingEvent(
        String tenant,
        String topic,
        int partition,
        String id,
        Instant acceptedAt,
        Instant expiresAt,
        Duration dedupWindow,
        EnvelopeTemplate envelope) {

    /** The key events are deduplicated on. */
    DedupKey dedupKey() {
        return new DedupKey(tenant, topic, id);
    }

    record DedupKey(String tenant, String topic, String id) implements Comparable<DedupKey> {
        @Override
        public int compareTo(DedupKey o) {
            int c = tenant.compareTo(o.tenant);
            if (c == 0) {
                c = topic.compareTo(o.topic);
            }
            return c != 0 ? c : id.compareTo(o.id);
        }
    }

    record PartitionKey(String tenant, String topic, int partition) implements Comparable<PartitionKey> {
        @Override
        public int compareTo(PartitionKey o) {
            int c = tenant.compareTo(o.tenant);
            if (c == 0) {
                c = topic.compareTo(o.topic);
            }
            return c != 0 ? c : Integer.compare(partition, o.partition);
        }
    }

    PartitionKey partitionKey() {
        return new PartitionKey(tenant, topic, partition);
    }
}
