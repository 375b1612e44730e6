package dev.switchboard.bench;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.SynchronizedHistogram;

/** A latency histogram in microseconds, up to one minute, 3 significant digits; recorded from Netty's threads. */
final class Latency {

    private final Histogram histogram = new SynchronizedHistogram(1, 60_000_000L, 3);

    void recordNanos(long nanos) {
        histogram.recordValue(Math.max(1, Math.min(nanos / 1000, 60_000_000L)));
    }

    long count() {
        return histogram.getTotalCount();
    }

    /** Milliseconds at a percentile (0–100). */
    double millis(double percentile) {
        return histogram.getTotalCount() == 0 ? Double.NaN : histogram.getValueAtPercentile(percentile) / 1000.0;
    }

    double maxMillis() {
        return histogram.getTotalCount() == 0 ? Double.NaN : histogram.getMaxValue() / 1000.0;
    }
}
