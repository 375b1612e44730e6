package dev.switchboard.platform.lifecycle;

import org.springframework.context.SmartLifecycle;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.Objects;

/**
 * Background work that runs every interval while its application context runs (retention sweeps,
 * gauges read from the database, the consumer-lag view): one run at a time — a tick that comes
 * while the previous run is still going is dropped, not queued — and a failed run is handed to
 * {@link #failed} (which logs and counts it) without ending the ones after it. The subclass is the
 * Spring bean; its lifecycle starts and stops the work, so nothing outlives the context.
 */
public abstract class PeriodicWork implements SmartLifecycle {

    private final Duration initialDelay;
    private final Duration interval;
    private volatile Disposable running;

    /**
     * @param initialDelay how long after start the first run begins ({@link Duration#ZERO}: at once)
     * @param interval     between the starts of two runs
     */
    protected PeriodicWork(Duration initialDelay, Duration interval) {
        this.initialDelay = Objects.requireNonNull(initialDelay, "initialDelay");
        this.interval = Objects.requireNonNull(interval, "interval");
    }

    /** One run of the work. */
    protected abstract Mono<?> runOnce();

    /** A run failed: say so (a WARN) and count it; the next tick runs as usual. */
    protected abstract void failed(Throwable error);

    @Override
    public void start() {
        running = Flux.interval(initialDelay, interval)
                .onBackpressureDrop()
                .concatMap(tick -> runOnce().onErrorResume(e -> {
                    failed(e);
                    return Mono.empty();
                }), 1)
                .subscribe();
    }

    @Override
    public void stop() {
        Disposable d = running;
        running = null;
        if (d != null) {
            d.dispose();
        }
    }

    @Override
    public boolean isRunning() {
        Disposable d = running;
        return d != null && !d.isDisposed();
    }
}
