package dev.switchboard.delivery.stream;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import dev.switchboard.platform.database.PgListen;
import io.r2dbc.spi.ConnectionFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.util.retry.Retry;

import java.time.Duration;

/**
 * The instance's one {@code LISTEN} connection: every commit announces a partition's new head with
 * {@code NOTIFY}, and this turns those into a hot flux of {@link Head}s that live streams wait on.
 * Payloads carry positions, never events (NOTIFY payloads are capped at 8000 bytes). A lost
 * connection is re-established with backoff; streams also re-check the log on a timer, so a
 * notification lost meanwhile delays delivery by at most that interval, it never loses an event.
 */
@Component
public class HeadNotifier implements SmartLifecycle {

    /** The NOTIFY channel. */
    public static final String CHANNEL = "delivery_heads";

    private static final Logger log = LoggerFactory.getLogger(HeadNotifier.class);

    /** A partition's head after a commit, heard at {@code heardNanos} ({@link System#nanoTime()}). */
    public record Head(String tenant, String topic, int partition, long head, long heardNanos) {
    }

    private final ConnectionFactory connectionFactory;
    private final LivePath live;
    private final Sinks.Many<Head> heads = Sinks.many().multicast().directBestEffort();
    private final Counter reconnects;
    private volatile Disposable listening;

    HeadNotifier(ConnectionFactory connectionFactory, MeterRegistry meters, LivePath live) {
        this.connectionFactory = connectionFactory;
        this.live = live;
        this.reconnects = Counter.builder("switchboard.delivery.listen.reconnects")
                .description("LISTEN connections re-established after a failure")
                .register(meters);
    }

    /**
     * The NOTIFY payload of a partition head, as SQL over a row's {@code tenant_id, topic, partition,
     * head}: names hold no spaces, so spaces separate ({@link #parse}).
     */
    public static final String PAYLOAD_SQL = "tenant_id || ' ' || topic || ' ' || partition || ' ' || head";

    static Head parse(String payload, long heardNanos) {
        String[] parts = payload.split(" ");
        return new Head(parts[0], parts[1], Integer.parseInt(parts[2]), Long.parseLong(parts[3]), heardNanos);
    }

    /** Heads committed from now on, on every instance. Subscribers that lag simply miss values (they re-read the log). */
    public Flux<Head> heads() {
        return heads.asFlux();
    }

    private Flux<Head> listen() {
        // A (re)connect may have missed notifications: streams re-read on their poll timer anyway.
        return PgListen.payloads(connectionFactory, CHANNEL)
                .filter(payload -> !payload.equals(PgListen.LISTENING))
                .map(payload -> {
                    long heard = System.nanoTime();
                    live.heard(payload, heard);
                    return parse(payload, heard);
                });
    }

    @Override
    public void start() {
        listening = listen()
                .doOnError(e -> {
                    reconnects.increment();
                    log.warn("LISTEN {} connection lost; reconnecting: {}", CHANNEL, e.toString());
                })
                .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(100)).maxBackoff(Duration.ofSeconds(5)))
                .subscribe(head -> heads.tryEmitNext(head));
    }

    @Override
    public void stop() {
        Disposable d = listening;
        if (d != null) {
            d.dispose();
        }
        listening = null;
    }

    @Override
    public boolean isRunning() {
        return listening != null && !listening.isDisposed();
    }
}
