package dev.switchboard.client;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link SwitchboardConsumer} polls and handles. Immutable; start from {@link #defaults()}
 * and change with the {@code with…} methods.
 *
 * @param maxBatch         events per poll, 1..1000 (default 100)
 * @param ackDeadline      how long each polled event stays leased to this consumer before the
 *                         platform redelivers it, 100 ms..12 h (default 30 s); a handler should
 *                         finish well within it
 * @param pollWait         how long an empty poll waits for events (long-poll), 0..30 s (default
 *                         10 s); a graceful stop may take this long
 * @param concurrency      handlers running at once, at least 1 (default 8)
 * @param consumerName     this consumer's name in the group ({@code [A-Za-z0-9._:@-]{1,128}}), or
 *                         null
 * @param orderedByKey     ask for a group that keeps order per {@code partitionkey} (fixed when
 *                         the group is created); the consumer then also runs the events of one key
 *                         one after the other
 * @param from             where a new group starts: {@code "earliest"} (the platform's default) or
 *                         {@code "latest"}; null leaves it to the platform; ignored for an
 *                         existing group
 * @param nackDelay        the redelivery delay after a first failure; it doubles with each attempt
 *                         (default 1 s)
 * @param maxNackDelay     the longest redelivery delay (default 5 min)
 * @param errorBackoff     the first pause after a failed poll; doubles with each failure in a row, up to 30 s
 *                         (default 500 ms)
 */
public record ConsumerOptions(int maxBatch, Duration ackDeadline, Duration pollWait, int concurrency, String consumerName,
                              boolean orderedByKey, String from, Duration nackDelay, Duration maxNackDelay,
                              Duration errorBackoff) {

    public static final int DEFAULT_MAX_BATCH = 100;
    public static final Duration DEFAULT_ACK_DEADLINE = Duration.ofSeconds(30);
    public static final Duration DEFAULT_WAIT = Duration.ofSeconds(10);
    public static final int DEFAULT_CONCURRENCY = 8;
    public static final Duration DEFAULT_NACK_DELAY = Duration.ofSeconds(1);
    public static final Duration DEFAULT_MAX_NACK_DELAY = Duration.ofMinutes(5);
    public static final Duration DEFAULT_ERROR_BACKOFF = Duration.ofMillis(500);
    /** The longest pause between polls after errors. */
    public static final Duration MAX_ERROR_BACKOFF = Duration.ofSeconds(30);

    public ConsumerOptions {
        if (maxBatch < 1 || maxBatch > 1000) {
            throw new IllegalArgumentException("maxBatch must lie in 1..1000");
        }
        Objects.requireNonNull(ackDeadline, "ackDeadline");
        if (ackDeadline.toMillis() < 100 || ackDeadline.toMillis() > 43_200_000) {
            throw new IllegalArgumentException("ackDeadline must lie in 100 ms..12 h");
        }
        Objects.requireNonNull(pollWait, "pollWait");
        if (pollWait.isNegative() || pollWait.toMillis() > 30_000) {
            throw new IllegalArgumentException("pollWait must lie in 0..30 s");
        }
        if (concurrency < 1) {
            throw new IllegalArgumentException("concurrency must be at least 1");
        }
        if (from != null && !from.equals("earliest") && !from.equals("latest")) {
            throw new IllegalArgumentException("from is earliest, latest or null");
        }
        Objects.requireNonNull(nackDelay, "nackDelay");
        Objects.requireNonNull(maxNackDelay, "maxNackDelay");
        Objects.requireNonNull(errorBackoff, "errorBackoff");
        if (nackDelay.isNegative() || maxNackDelay.compareTo(nackDelay) < 0 || maxNackDelay.toMillis() > 86_400_000
                || errorBackoff.isNegative()) {
            throw new IllegalArgumentException("nackDelay ≤ maxNackDelay ≤ 24 h, errorBackoff ≥ 0");
        }
    }

    public static ConsumerOptions defaults() {
        return new ConsumerOptions(DEFAULT_MAX_BATCH, DEFAULT_ACK_DEADLINE, DEFAULT_WAIT, DEFAULT_CONCURRENCY, null,
                false, null, DEFAULT_NACK_DELAY, DEFAULT_MAX_NACK_DELAY, DEFAULT_ERROR_BACKOFF);
    }

    public ConsumerOptions withMaxBatch(int maxBatch) {
        return new ConsumerOptions(maxBatch, ackDeadline, pollWait, concurrency, consumerName, orderedByKey, from,
                nackDelay, maxNackDelay, errorBackoff);
    }

    public ConsumerOptions withAckDeadline(Duration ackDeadline) {
        return new ConsumerOptions(maxBatch, ackDeadline, pollWait, concurrency, consumerName, orderedByKey, from,
                nackDelay, maxNackDelay, errorBackoff);
    }

    public ConsumerOptions withPollWait(Duration pollWait) {
        return new ConsumerOptions(maxBatch, ackDeadline, pollWait, concurrency, consumerName, orderedByKey, from,
                nackDelay, maxNackDelay, errorBackoff);
    }

    public ConsumerOptions withConcurrency(int concurrency) {
        return new ConsumerOptions(maxBatch, ackDeadline, pollWait, concurrency, consumerName, orderedByKey, from,
                nackDelay, maxNackDelay, errorBackoff);
    }

    public ConsumerOptions withConsumerName(String consumerName) {
        return new ConsumerOptions(maxBatch, ackDeadline, pollWait, concurrency, consumerName, orderedByKey, from,
                nackDelay, maxNackDelay, errorBackoff);
    }

    public ConsumerOptions withOrderedByKey(boolean orderedByKey) {
        return new ConsumerOptions(maxBatch, ackDeadline, pollWait, concurrency, consumerName, orderedByKey, from,
                nackDelay, maxNackDelay, errorBackoff);
    }

    public ConsumerOptions withFrom(String from) {
        return new ConsumerOptions(maxBatch, ackDeadline, pollWait, concurrency, consumerName, orderedByKey, from,
                nackDelay, maxNackDelay, errorBackoff);
    }

    public ConsumerOptions withNackDelay(Duration nackDelay, Duration maxNackDelay) {
        return new ConsumerOptions(maxBatch, ackDeadline, pollWait, concurrency, consumerName, orderedByKey, from,
                nackDelay, maxNackDelay, errorBackoff);
    }

    public ConsumerOptions withErrorBackoff(Duration errorBackoff) {
        return new ConsumerOptions(maxBatch, ackDeadline, pollWait, concurrency, consumerName, orderedByKey, from,
                nackDelay, maxNackDelay, errorBackoff);
    }

    /** The redelivery delay after attempt {@code attempt} failed: {@code nackDelay × 2^(attempt-1)}, capped. */
    Duration nackDelayAfter(int attempt) {
        long shift = Math.min(Math.max(attempt, 1) - 1L, 30);
        long millis = nackDelay.toMillis() << shift;
        return millis < 0 || millis > maxNackDelay.toMillis() ? maxNackDelay : Duration.ofMillis(millis);
    }

    /** The pause after {@code failures} polls in a row failed. */
    Duration errorBackoffAfter(int failures) {
        long shift = Math.min(Math.max(failures, 1) - 1L, 30);
        long millis = errorBackoff.toMillis() << shift;
        return millis < 0 || millis > MAX_ERROR_BACKOFF.toMillis() ? MAX_ERROR_BACKOFF : Duration.ofMillis(millis);
    }
}
