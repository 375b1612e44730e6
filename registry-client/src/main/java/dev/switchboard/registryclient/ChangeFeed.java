package dev.switchboard.registryclient;

import dev.switchboard.contracts.registry.AppliedReport;
import dev.switchboard.contracts.registry.RegistryChange;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.BufferOverflowStrategy;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.util.retry.Retry;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one long-lived {@code GET /internal/v1/changes} stream of this process. Each line invalidates
 * what it affects before it is passed on; a heartbeat only advances the resume point and proves the
 * stream alive. A broken, refused or silent stream is reopened with jittered backoff from the last
 * id seen, and every (re)opening empties the cache, since what happened in between is not known
 * for sure. While the stream is not known to be healthy the cache serves nothing older than
 * {@code degradedMaxAge}, so a change is seen within that bound whatever the feed does.
 *
 * <p>A feed that is open but silent past {@code feedHeartbeat + degradedMaxAge} is not trusted
 * (degraded) but kept: when its lines arrive late they arrive in order and invalidate as usual. Only
 * after {@code feedLivenessTimeout} is it torn down, so one late heartbeat does not empty every
 * cache of the platform at once.
 *
 * <p>After each line it has applied (a heartbeat included) the feed tells the registry the highest
 * change id it has applied, as subscriber {@code subscriber} — the latest only, one report at a
 * time, counting for two heartbeats and {@code degradedMaxAge} — and on {@link #stop()} that it
 * leaves: the registry answers a revocation once every live subscriber has applied it.
 */
final class ChangeFeed {

    static final String DISCONNECTS_METRIC = "switchboard.registry.client.feed.disconnects";
    static final String HEALTHY_METRIC = "switchboard.registry.client.feed.healthy";

    /** The longest {@link #stop()} waits to tell the registry this process leaves. */
    static final Duration LEAVE_TIMEOUT = Duration.ofSeconds(1);

    /** How many changes a slow {@link #changes()} subscriber may fall behind before it is failed. */
    static final int SUBSCRIBER_BUFFER = 1024;

    private static final Logger log = LoggerFactory.getLogger(ChangeFeed.class);

    private final RegistryHttp http;
    private final RegistryCache cache;
    private final MeterRegistry meters;
    private final long degradedMaxAgeNanos;
    private final long trustedSilenceNanos;
    private final RegistryClientProperties properties;
    private final Sinks.Many<RegistryChange> sink = Sinks.many().multicast().directBestEffort();
    private final AtomicLong lastId = new AtomicLong();
    private final String subscriber;
    private final Sinks.Many<Long> applied = Sinks.many().unicast().onBackpressureBuffer();
    private final long reportTtlMs;
    private volatile boolean reportFailing;

    private volatile boolean open;
    private volatile long lastLineAtNanos;
    private volatile boolean lost;
    private Disposable subscription;

    ChangeFeed(RegistryHttp http, RegistryCache cache, RegistryClientProperties properties, MeterRegistry meters, String subscriber) {
        this.http = http;
        this.subscriber = subscriber;
        this.reportTtlMs = properties.feedHeartbeat().multipliedBy(2).plus(properties.degradedMaxAge()).toMillis();
        this.cache = cache;
        this.properties = properties;
        this.meters = meters;
        this.degradedMaxAgeNanos = properties.degradedMaxAge().toNanos();
        this.trustedSilenceNanos = properties.feedHeartbeat().plus(properties.degradedMaxAge()).toNanos();
        Gauge.builder(HEALTHY_METRIC, this, feed -> feed.healthy() ? 1 : 0)
                .description("1 while the registry change feed vouches for the cache, else 0 (entries live at most degraded-max-age)")
                .register(meters);
    }

    synchronized void start() {
        if (subscription != null) {
            return;
        }
        Disposable feed = Flux.defer(this::connectOnce)
                .retryWhen(Retry.backoff(Long.MAX_VALUE, properties.feedReconnectBackoff())
                        .maxBackoff(properties.feedReconnectMaxBackoff())
                        .jitter(0.5)
                        // The backoff starts over once a connection has delivered a line.
                        .transientErrors(true))
                .subscribe(line -> { }, error -> log.error("registry change feed stopped", error));
        // Only the newest position matters: reports that queue up behind a slow one fold into it.
        Disposable reports = applied.asFlux().onBackpressureLatest()
                .concatMap(id -> http.reportApplied(subscriber, new AppliedReport(id, reportTtlMs))
                        .doOnSuccess(done -> reportFailing = false)
                        .onErrorResume(this::reportFailed), 1)
                .subscribe();
        subscription = Disposables.composite(feed, reports);
    }

    private Mono<Void> reportFailed(Throwable error) {
        if (!reportFailing) {
            reportFailing = true;
            log.warn("Could not tell the registry which changes this process has applied (subscriber {}); "
                    + "its revocations wait for it until its last report expires: {}", subscriber, error.toString());
        }
        return Mono.empty();
    }

    synchronized void stop() {
        if (subscription != null) {
            subscription.dispose();
            subscription = null;
            leave();
        }
        open = false;
        // The feed's thread may be emitting a last line right now: wait for it rather than lose the completion.
        sink.emitComplete(Sinks.EmitFailureHandler.busyLooping(Duration.ofMillis(100)));
    }

    /** Tells the registry not to wait for this process any more: at once when the caller may block, else in the background. */
    private void leave() {
        Mono<Void> leave = http.leaveChanges(subscriber).timeout(LEAVE_TIMEOUT)
                .doOnError(e -> log.debug("Could not tell the registry subscriber {} leaves: {}", subscriber, e.toString()))
                .onErrorResume(e -> Mono.empty());
        if (Schedulers.isInNonBlockingThread()) {
            leave.subscribe();
        } else {
            leave.block();
        }
    }

    String subscriber() {
        return subscriber;
    }

    synchronized boolean running() {
        return subscription != null && !subscription.isDisposed();
    }

    /** True while the feed is open and has spoken recently enough to vouch for the cache. */
    boolean healthy() {
        return open && System.nanoTime() - lastLineAtNanos <= trustedSilenceNanos;
    }

    /** The oldest an answer may be to be served now: unbounded (Caffeine's maxAge applies) while healthy. */
    long servableAgeNanos() {
        return healthy() ? Long.MAX_VALUE : degradedMaxAgeNanos;
    }

    long lastId() {
        return lastId.get();
    }

    Flux<RegistryChange> changes() {
        return sink.asFlux().onBackpressureBuffer(SUBSCRIBER_BUFFER, dropped -> { }, BufferOverflowStrategy.ERROR);
    }

    private Flux<RegistryHttp.ChangeLine> connectOnce() {
        long after = lastId.get();
        return http.changes(after, this::opened)
                .timeout(properties.feedLivenessTimeout())
                .doOnNext(this::apply)
                // A stream the registry ends is reopened like a broken one.
                .concatWith(Mono.error(FeedClosedException::new))
                .doOnError(this::lost)
                .doOnCancel(() -> open = false);
    }

    private void opened() {
        // Drop first, then trust: nothing cached before this point can be vouched for.
        cache.invalidateAll();
        lastLineAtNanos = System.nanoTime();
        open = true;
        if (lost) {
            lost = false;
            log.info("registry change feed reopened after id {}; cache emptied", lastId.get());
        }
        emit(new RegistryChange(lastId.get(), RegistryChange.Kind.TENANT, CachingRegistryClient.RESET_TENANT, null, Instant.now()));
    }

    private void lost(Throwable error) {
        boolean wasOpen = open;
        open = false;
        String reason = reason(error);
        String detail = error instanceof TimeoutException
                ? "no line for " + properties.feedLivenessTimeout()
                : error.getMessage();
        Counter.builder(DISCONNECTS_METRIC)
                .description("Registry change feed streams that broke, went silent, ended or could not be opened")
                .tag("reason", reason)
                .register(meters)
                .increment();
        if (wasOpen || !lost) {
            log.warn("registry change feed lost ({}: {}); cache entries live at most {} until it is back",
                    reason, detail, properties.degradedMaxAge());
        } else {
            log.debug("registry change feed still down ({}: {})", reason, detail);
        }
        lost = true;
    }

    private void apply(RegistryHttp.ChangeLine line) {
        lastLineAtNanos = System.nanoTime();
        RegistryChange.Kind kind = kindOf(line.kind());
        String tenant = line.tenant();
        if (kind != RegistryChange.Kind.HEARTBEAT) {
            if (tenant == null || (kind == RegistryChange.Kind.TENANT && CachingRegistryClient.RESET_TENANT.equals(tenant))) {
                cache.invalidateAll();
            } else if (kind == null) {
                // A kind this client does not know: assume the whole tenant changed.
                cache.invalidateTenant(tenant);
            } else {
                switch (kind) {
                    case TENANT -> cache.invalidateTenant(tenant);
                    case KEY -> cache.invalidateKeys(tenant);
                    case TOPIC -> cache.invalidateTopics(tenant);
                    case QUOTAS -> cache.invalidate(new CacheKey.Quotas(tenant));
                    case CLIENT_SECRET -> cache.invalidate(new CacheKey.Secrets(tenant));
                    case HEARTBEAT -> {
                    }
                }
            }
        }
        long appliedThrough = lastId.accumulateAndGet(line.id(), Math::max);
        if (kind != null && kind != RegistryChange.Kind.HEARTBEAT) {
            emit(new RegistryChange(line.id(), kind, tenant, line.ref(), line.at()));
        }
        // The cache no longer trusts anything up to this id: say so (the feed's own thread is the only emitter).
        applied.tryEmitNext(appliedThrough);
    }

    private void emit(RegistryChange change) {
        // Only the feed's own thread emits, one line at a time; subscribers buffer for themselves.
        sink.tryEmitNext(change);
    }

    private static RegistryChange.Kind kindOf(String wire) {
        if (wire == null) {
            return null;
        }
        try {
            return RegistryChange.Kind.valueOf(wire.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException unknown) {
            return null;
        }
    }

    private static String reason(Throwable error) {
        if (error instanceof TimeoutException) {
            return "silent";
        }
        if (error instanceof FeedClosedException) {
            return "closed";
        }
        if (error instanceof RegistryHttp.FeedRejectedException) {
            return "rejected";
        }
        return "broken";
    }

    /** The registry ended the stream (a restart, a deploy). */
    static final class FeedClosedException extends RuntimeException {
        FeedClosedException() {
            super("the registry ended the change feed", null, false, false);
        }
    }
}
