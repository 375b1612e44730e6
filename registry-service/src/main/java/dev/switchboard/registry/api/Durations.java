package dev.switchboard.registry.api;

import java.time.Duration;

/** How durations are written back to admins: {@code P7D} for whole days, else {@code PT…}. */
public final class Durations {

    private static final long DAY_MILLIS = Duration.ofDays(1).toMillis();

    private Durations() {
    }

    public static String format(Duration duration) {
        if (duration == null) {
            return null;
        }
        if (duration.isZero()) {
            return "PT0S";
        }
        if (duration.getNano() == 0 && duration.toMillis() % DAY_MILLIS == 0) {
            return "P" + duration.toDays() + "D";
        }
        return duration.toString();
    }

    public static String formatMillis(Long millis) {
        return millis == null ? null : format(Duration.ofMillis(millis));
    }
}
