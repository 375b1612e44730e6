package dev.switchboard.gateway.session;

import dev.switchboard.contracts.registry.ConnectionReport;
import dev.switchboard.gateway.fanout.Fanout;
import dev.switchboard.gateway.config.WebSocketProperties;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;
import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.registry.RegistryChange;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.registryclient.CachingRegistryClient;
import dev.switchboard.registryclient.RegistryClient;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The sockets of this gateway instance: per-tenant connection counts, metrics, and graceful
 * shutdown.
 *
 * <p>Connection quota: a tenant's {@code maxConnections} holds across all gateway instances. Every
 * {@link WebSocketProperties#connectionReportInterval()} this instance reports its sockets per
 * tenant to the registry (the report counts for three intervals, so a dead gateway stops counting
 * by itself) and learns the other live gateways' counts; a connect is admitted while this
 * instance's sockets plus the others' stay within the quota. When the registry cannot be reached
 * for three intervals the others' counts are dropped and the quota holds per instance (fail open:
 * a registry outage does not lock users out).
 *
 * <p>Registry changes: while running, this follows the registry client's change feed. A change to a
 * tenant or its client secrets (or a feed reset, which may hide any change) makes every socket of
 * that tenant verify its token again; those that no longer verify are closed with 4001.
 *
 * <p>Shutdown: this lifecycle stops before the web server's own graceful shutdown (a higher phase
 * stops first). It sends every socket {@code reconnect} ({@code reason: shutdown}, a {@code delayMs}
 * uniform in [0, {@link WebSocketProperties#shutdownJitter()}], its resume points) and closes it
 * with 1012; sockets that arrive meanwhile get the same at once. It waits for the sockets to go, at
 * most {@link WebSocketProperties#shutdownTimeout()}, then lets the web server stop.
 */
@Component
class Sessions implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(Sessions.class);

    private final Set<Session> open = ConcurrentHashMap.newKeySet();
    private final Map<String, AtomicInteger> perTenant = new ConcurrentHashMap<>();
    private final WebSocketProperties properties;
    private final MeterRegistry meters;
    final Counter framesIn;
    final Counter framesOut;
    private final RegistryClient registry;
    private final Fanout fanout;
    private volatile boolean running;
    private volatile boolean draining;
    private volatile Disposable changes;
    private volatile Disposable reports;
    private volatile Disposable clock;
    /** How often the shared clock looks at every socket (connect deadlines, pings, idle checks). */
    static final Duration TICK = Duration.ofMillis(250);
    /** This instance in the registry's connection counts; new at every start. */
    private final String gatewayId = UUID.randomUUID().toString();
    /** Sockets per tenant on the other live gateways, as of {@link #othersAt} (nanoTime). */
    private volatile Map<String, Integer> others = Map.of();
    private volatile long othersAt;

    Sessions(WebSocketProperties properties, MeterRegistry meters, RegistryClient registry, Fanout fanout) {
        this.fanout = fanout;
        this.properties = properties;
        this.meters = meters;
        this.registry = registry;
        this.framesIn = meters.counter("switchboard.gateway.ws.frames.in");
        this.framesOut = meters.counter("switchboard.gateway.ws.frames.out");
        meters.gauge("switchboard.gateway.ws.sockets", open, Set::size);
        meters.gauge("switchboard.gateway.ws.subscriptions", open, s -> s.stream().mapToInt(Session::subscriptionCount).sum());
        meters.gauge("switchboard.gateway.ws.queue.depth", open, s -> s.stream().mapToInt(Session::queueDepth).sum());
    }

    void opened(Session session) {
        open.add(session);
        if (draining) {
            session.shutdown(jitter());
        }
    }

    void closed(Session session) {
        open.remove(session);
    }

    /** Takes one of the tenant's connection slots; false when its quota is used up across the gateways. */
    boolean admit(String tenant, int maxConnections) {
        AtomicInteger count = perTenant.computeIfAbsent(tenant, t -> new AtomicInteger());
        if (count.incrementAndGet() + elsewhere(tenant) > maxConnections) {
            count.decrementAndGet();
            return false;
        }
        return true;
    }

    void release(String tenant) {
        AtomicInteger count = perTenant.get(tenant);
        if (count != null) {
            count.decrementAndGet();
        }
    }

    private int elsewhere(String tenant) {
        boolean fresh = System.nanoTime() - othersAt < reportTtl().toNanos();
        return fresh ? others.getOrDefault(tenant, 0) : 0;
    }

    /** Three report intervals, at least a second (the registry's minimum). */
    private Duration reportTtl() {
        Duration ttl = properties.connectionReportInterval().multipliedBy(3);
        return ttl.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : ttl;
    }

    /** Tells the registry this instance's sockets per tenant and the topics they watch; learns the other gateways' counts. */
    private Mono<Void> report() {
        Map<String, Integer> counts = new java.util.HashMap<>();
        perTenant.forEach((tenant, n) -> {
            if (n.get() > 0) {
                counts.put(tenant, n.get());
            }
        });
        return registry.reportConnections(gatewayId, counts, fanout.watched(ConnectionReport.MAX_WATCHED_PER_TENANT), reportTtl())
                .doOnNext(m -> {
                    others = m;
                    othersAt = System.nanoTime();
                })
                .then()
                .onErrorResume(e -> {
                    // An outage is expected now and then (the quota then holds per instance); a refusal is a bug.
                    if (e instanceof SwitchboardException se && se.code() != ErrorCode.UNAVAILABLE) {
                        log.warn("the registry refused this gateway's connection report: {}", se.getMessage());
                    } else {
                        log.debug("connection report failed: {}", e.toString());
                    }
                    return Mono.empty();
                });
    }

    void lagging(String tenant) {
        meters.counter("switchboard.gateway.ws.lagging.disconnects", "tenant", tenant).increment();
    }

    int openCount() {
        return open.size();
    }

    @Override
    public void start() {
        running = true;
        clock = Flux.interval(TICK)
                .onBackpressureDrop()
                .subscribe(t -> {
                    long now = System.nanoTime();
                    java.time.Instant wallNow = java.time.Instant.now();
                    for (Session session : open) {
                        try {
                            session.tick(now, wallNow);
                        } catch (RuntimeException e) {
                            log.warn("socket {}: tick failed", session.id(), e);
                        }
                    }
                });
        reports = Flux.interval(Duration.ZERO, properties.connectionReportInterval())
                .onBackpressureDrop()
                .concatMap(t -> report(), 1)
                .subscribe();
        changes = Flux.defer(registry::changes)
                .filter(c -> c.kind() == RegistryChange.Kind.TENANT || c.kind() == RegistryChange.Kind.CLIENT_SECRET)
                .map(RegistryChange::tenant)
                // A subscriber that fell behind has missed changes: check everyone, then follow again.
                .onErrorResume(e -> Mono.just(CachingRegistryClient.RESET_TENANT))
                // Resubscribe (not in a tight loop: the feed completes at once once the client is closed).
                .repeatWhen(done -> done.concatMap(n -> Mono.delay(Duration.ofMillis(500))).takeWhile(n -> running))
                .concatMap(tenant -> revalidate(tenant).onErrorResume(e -> Mono.empty()), 1)
                .subscribe();
    }

    /** Verifies again the tokens of the tenant's sockets ({@code *}: every socket's). */
    Mono<Void> revalidate(String tenant) {
        boolean all = CachingRegistryClient.RESET_TENANT.equals(tenant);
        return Flux.fromIterable(List.copyOf(open))
                .filter(s -> all || tenant.equals(s.tenant()))
                .flatMap(Session::revalidate, 64)
                .then();
    }

    @Override
    public void stop() {
        throw new UnsupportedOperationException("stop(Runnable) only");
    }

    @Override
    public void stop(Runnable callback) {
        draining = true;
        running = false;
        stopBackgroundCalls();
        Runnable finish = () -> {
            Disposable ticking = clock;
            if (ticking != null) {
                ticking.dispose();
            }
            callback.run();
        };
        int count = open.size();
        if (count == 0) {
            finish.run();
            return;
        }
        log.info("shutting down: sending reconnect to {} sockets", count);
        open.forEach(s -> s.shutdown(jitter()));
        Flux.interval(Duration.ofMillis(20))
                .filter(t -> open.isEmpty())
                .next()
                .timeout(properties.shutdownTimeout())
                .doFinally(s -> {
                    if (!open.isEmpty()) {
                        log.warn("{} sockets still open after {}", open.size(), properties.shutdownTimeout());
                    }
                    finish.run();
                })
                .subscribe(t -> { }, e -> { });
    }

    /**
     * The registry calls stop as soon as the context starts closing, before any lifecycle stops:
     * Reactor Netty's shared resources wait for a quiet period before they stop, and a call every
     * report interval would keep them from ever being quiet. This instance's last report then
     * expires by itself within three report intervals.
     */
    @EventListener(ContextClosedEvent.class)
    void stopBackgroundCalls() {
        Disposable feed = changes;
        if (feed != null) {
            feed.dispose();
        }
        Disposable reporter = reports;
        if (reporter != null) {
            reporter.dispose();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        // Above the web server's graceful shutdown (DEFAULT_PHASE - 1024), so this stops first.
        return SmartLifecycle.DEFAULT_PHASE - 512;
    }

    private long jitter() {
        long max = properties.shutdownJitter().toMillis();
        return max <= 0 ? 0 : ThreadLocalRandom.current().nextLong(max + 1);
    }
}
