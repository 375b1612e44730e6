package dev.switchboard.registry.change;

import dev.switchboard.platform.database.PgListen;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.r2dbc.spi.ConnectionFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.retry.Retry;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The one {@code LISTEN registry_changes} of this instance, on a dedicated connection outside the
 * pool, fanned out to every change-feed subscriber through a multicast sink. A notification is only
 * a wake-up (its payload is an id, never the change): subscribers read the rows themselves.
 *
 * <p>When the connection fails or closes it is reopened with exponential backoff (200 ms to 10 s),
 * each failure logged at WARN and counted in {@code registry.changes.listen.failures}. Every
 * successful (re)connect emits a wake-up, so subscribers re-read whatever committed while nobody
 * was listening. Stopping completes {@link #stopped()}, ending every feed so clients resume
 * elsewhere instead of holding up a graceful shutdown.
 */
@Component
class ChangeNotifications implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(ChangeNotifications.class);
    /** The wake-up sent after (re)connecting: not a change id. */
    static final long RECONNECTED = 0L;

    private final ConnectionFactory connections;
    private final Sinks.Many<Long> wakeups = Sinks.many().multicast().directBestEffort();
    private final Sinks.Empty<Void> stopped = Sinks.empty();
    private final AtomicBoolean connected = new AtomicBoolean();
    private final Counter failures;
    private volatile Disposable listening;

    ChangeNotifications(ConnectionFactory connections, MeterRegistry meters) {
        this.connections = connections;
        this.failures = Counter.builder("registry.changes.listen.failures")
                .description("Failures of the change feed's LISTEN connection (each followed by a reconnect)")
                .register(meters);
        Gauge.builder("registry.changes.listen.connected", connected, c -> c.get() ? 1 : 0)
                .description("1 while the change feed's LISTEN connection is up")
                .register(meters);
    }

    /**
     * Wake-ups: a change id after each commit, {@link #RECONNECTED} after a (re)connect. Subscribers
     * must keep demand up (the feed coalesces with {@code onBackpressureLatest}); a subscriber
     * without demand misses wake-ups rather than holding the others back.
     */
    Flux<Long> wakeups() {
        return wakeups.asFlux();
    }

    /** Completes when this instance stops listening for good. */
    Mono<Void> stopped() {
        return stopped.asMono();
    }

    private Flux<Long> listenOnce() {
        return PgListen.payloads(connections, ChangeLog.CHANNEL)
                .doOnNext(payload -> {
                    if (payload.equals(PgListen.LISTENING)) {
                        connected.set(true);
                        log.info("Listening for registry changes");
                    }
                })
                // LISTENING parses as RECONNECTED: subscribers re-read what committed while nobody listened.
                .map(ChangeNotifications::parse)
                .doFinally(signal -> connected.set(false));
    }

    private static long parse(String payload) {
        try {
            return payload == null ? RECONNECTED : Long.parseLong(payload);
        } catch (NumberFormatException e) {
            return RECONNECTED;
        }
    }

    @Override
    public void start() {
        listening = listenOnce()
                .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(200))
                        .maxBackoff(Duration.ofSeconds(10))
                        .transientErrors(true)
                        .doBeforeRetry(signal -> {
                            failures.increment();
                            log.warn("The change feed's LISTEN connection failed ({}); reconnecting (attempt {})",
                                    signal.failure().toString(), signal.totalRetriesInARow() + 1);
                        }))
                .subscribe(wakeups::tryEmitNext, e -> log.error("The change feed stopped listening", e));
    }

    @Override
    public void stop() {
        Disposable d = listening;
        listening = null;
        if (d != null) {
            d.dispose();
        }
        stopped.tryEmitEmpty();
        wakeups.tryEmitComplete();
    }

    @Override
    public boolean isRunning() {
        return listening != null;
    }

    /** Stop before the web server's graceful shutdown, so open feeds end instead of holding it up. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE;
    }
}
