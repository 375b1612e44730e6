package dev.switchboard.client;

import java.time.Duration;
import java.util.Objects;

/**
 * How a call that failed for a passing reason is tried again: at most {@code maxAttempts} attempts
 * in all; before attempt n+1 a wait of {@code initialBackoff × 2^(n-1)}, capped at
 * {@code maxBackoff}, of which a random half is jitter — unless the failure was a {@code 429}
 * that said how long to wait, which is then waited exactly, up to {@code maxRetryAfter} (a longer
 * demand fails the call with that {@code 429}).
 *
 * @param maxAttempts    attempts in all, at least 1 (1: no retry)
 * @param initialBackoff the wait before the second attempt
 * @param maxBackoff     the longest wait between attempts, a 429's own wait aside
 * @param maxRetryAfter  the longest {@code Retry-After} this client waits out
 */
public record RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff, Duration maxRetryAfter) {

    public static final int DEFAULT_MAX_ATTEMPTS = 5;
    public static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofMillis(200);
    public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(5);
    public static final Duration DEFAULT_MAX_RETRY_AFTER = Duration.ofSeconds(30);

    /** 5 attempts, 200 ms doubling to at most 5 s, a {@code Retry-After} of up to 30 s waited out. */
    public static final RetryPolicy DEFAULT = new RetryPolicy(DEFAULT_MAX_ATTEMPTS, DEFAULT_INITIAL_BACKOFF,
            DEFAULT_MAX_BACKOFF, DEFAULT_MAX_RETRY_AFTER);

    /** Exactly one attempt. */
    public static final RetryPolicy NONE = new RetryPolicy(1, DEFAULT_INITIAL_BACKOFF, DEFAULT_MAX_BACKOFF,
            DEFAULT_MAX_RETRY_AFTER);

    public RetryPolicy {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1");
        }
        Objects.requireNonNull(initialBackoff, "initialBackoff");
        Objects.requireNonNull(maxBackoff, "maxBackoff");
        Objects.requireNonNull(maxRetryAfter, "maxRetryAfter");
        if (initialBackoff.isNegative() || maxBackoff.compareTo(initialBackoff) < 0 || maxRetryAfter.isNegative()) {
            throw new IllegalArgumentException("backoffs must be positive and maxBackoff ≥ initialBackoff");
        }
    }

    /** The backoff before retry number {@code retry} (0 for the first retry), before jitter. */
    Duration backoff(long retry) {
        long shift = Math.min(retry, 30);
        long millis = initialBackoff.toMillis() << shift;
        return millis < 0 || millis > maxBackoff.toMillis() ? maxBackoff : Duration.ofMillis(millis);
    }
}
