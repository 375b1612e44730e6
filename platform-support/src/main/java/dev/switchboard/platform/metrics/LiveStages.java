package dev.switchboard.platform.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Where an event's time goes on the live path, stage by stage, as one timer
 * ({@value #METRIC}, tagged {@code stage} only) with fixed buckets from 0.25 ms to 5 s, so a
 * scrape before and after a window gives that window's p50 and p99 of each stage
 * ({@code bench/ws.sh} prints them). Each service records its own stages; the names, in the order
 * an event meets them, are documented in {@code docs/benchmarks.md}.
 */
public final class LiveStages {

    public static final String METRIC = "switchboard.live.stage";

    private static final Duration[] BUCKETS = {
            ms(0.25), ms(0.5), ms(1), ms(2), ms(3), ms(5), ms(7.5), ms(10), ms(15), ms(20), ms(30), ms(50), ms(75),
            ms(100), ms(150), ms(200), ms(300), ms(500), ms(1000), ms(2000), ms(5000)};

    private final MeterRegistry meters;
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();

    public LiveStages(MeterRegistry meters) {
        this.meters = meters;
    }

    /** The stage's timer, made once. */
    public Timer stage(String stage) {
        return timers.computeIfAbsent(stage, s -> Timer.builder(METRIC)
                .description("Time an event spends in one stage of the live path (publish to socket)")
                .tag("stage", s)
                .serviceLevelObjectives(BUCKETS)
                .register(meters));
    }

    /** Records the time from {@code startNanos} ({@link System#nanoTime()}) to now. */
    public void since(String stage, long startNanos) {
        stage(stage).record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
    }

    /**
     * Records the wall-clock time from {@code start} to now: for stages that begin in another
     * process (an event's accept time, stamped by delivery-service, read again by the gateway).
     * Services compared this way share a clock only on one machine or with NTP; a negative
     * difference is recorded as zero.
     */
    public void sinceWallClock(String stage, Instant start) {
        long nanos = Duration.between(start, Instant.now()).toNanos();
        stage(stage).record(Math.max(0, nanos), TimeUnit.NANOSECONDS);
    }

    private static Duration ms(double millis) {
        return Duration.ofNanos((long) (millis * 1_000_000));
    }
}
