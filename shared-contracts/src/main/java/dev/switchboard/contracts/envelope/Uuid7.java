package dev.switchboard.contracts.envelope;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.UUID;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;

/**
 * UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits, so ids sort by creation
 * time as strings and as {@link UUID#compareTo}. Within one millisecond, and when the clock steps
 * back, the 74 bits count up from the last id (RFC 9562 section 6.2, method 2), so the ids of one
 * process strictly increase. Hand-written because it is twenty lines and the JDK has none.
 */
public final class Uuid7 {
    private static final long COUNTER_LOW_MASK = (1L << 62) - 1;
    private static final long COUNTER_HIGH_MASK = (1L << 12) - 1;
    private static final long VERSION = 7L << 12;
    private static final long VARIANT = 2L << 62;
    private static final Uuid7 SHARED = new Uuid7(System::currentTimeMillis, new SecureRandom());

    private final LongSupplier clock;
    private final RandomGenerator random;
    private long millis = Long.MIN_VALUE;
    private long counterHigh;
    private long counterLow;

    Uuid7(LongSupplier clock, RandomGenerator random) {
        this.clock = clock;
        this.random = random;
    }

    /** A new id, greater than every id this process made before. */
    public static UUID next() {
        return SHARED.generate();
    }

    /**
     * The millisecond a UUIDv7 was made in.
     *
     * @throws IllegalArgumentException when {@code uuid} is not a version 7 UUID
     */
    public static Instant timeOf(UUID uuid) {
        if (uuid.version() != 7 || uuid.variant() != 2) {
            throw new IllegalArgumentException("not a UUIDv7: " + uuid);
        }
        return Instant.ofEpochMilli(uuid.getMostSignificantBits() >>> 16);
    }

    synchronized UUID generate() {
        long now = clock.getAsLong();
        if (now > millis) {
            millis = now;
            counterHigh = random.nextLong() & COUNTER_HIGH_MASK;
            counterLow = random.nextLong() & COUNTER_LOW_MASK;
        } else {
            counterLow = (counterLow + 1) & COUNTER_LOW_MASK;
            if (counterLow == 0) {
                counterHigh = (counterHigh + 1) & COUNTER_HIGH_MASK;
                if (counterHigh == 0) {
                    // 2^74 ids in one millisecond: borrow the next millisecond rather than repeat.
                    millis++;
                }
            }
        }
        return new UUID(millis << 16 | VERSION | counterHigh, VARIANT | counterLow);
    }
}
