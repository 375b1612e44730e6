package dev.switchboard.client;

/**
 * Where a published event landed: its {@code id} (the producer's, or the one this client gave it),
 * its {@code seq} and {@code partition}, and whether the platform already had an event with that
 * id in the topic's dedup window ({@code duplicate}: then {@code seq} is the original's). A
 * retried publish whose first attempt was stored answers {@code duplicate = true}.
 */
public record PublishResult(String id, long seq, int partition, boolean duplicate) {
}
