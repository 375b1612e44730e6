package dev.switchboard.delivery.durable;

import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code Stream-Cursor} ({@code PROTOCOL.md} §8.1): the number of 20-second intervals since
 * 2024-10-09T00:00Z, never at or below the cursor the client echoed — then it moves on by a random
 * 1–3600 s — so a CDN that collapses long-polls on the URL never serves one cached answer forever.
 */
final class StreamCursor {

    private static final long EPOCH_SECONDS = Instant.parse("2024-10-09T00:00:00Z").getEpochSecond();
    private static final long INTERVAL_SECONDS = 20;

    private StreamCursor() {
    }

    static String next(String echoed, Instant now) {
        long current = (now.getEpochSecond() - EPOCH_SECONDS) / INTERVAL_SECONDS;
        long client = parse(echoed);
        if (client >= current) {
            long jitterSeconds = ThreadLocalRandom.current().nextLong(1, 3601);
            current = client + Math.max(1, jitterSeconds / INTERVAL_SECONDS);
        }
        return Long.toString(current);
    }

    private static long parse(String cursor) {
        if (cursor == null || cursor.isEmpty() || cursor.length() > 18) {
            return -1;
        }
        for (int i = 0; i < cursor.length(); i++) {
            if (cursor.charAt(i) < '0' || cursor.charAt(i) > '9') {
                return -1;
            }
        }
        return Long.parseLong(cursor);
    }
}
