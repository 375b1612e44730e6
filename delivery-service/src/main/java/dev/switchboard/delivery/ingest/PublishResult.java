package dev.switchboard.delivery.ingest;

/** What a publisher is told of one event: where it lives, and whether it was already there. */
public record PublishResult(String id, long seq, int partition, boolean duplicate) {
}
