package dev.switchboard.gateway.session;

import dev.switchboard.gateway.config.WebSocketProperties;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import dev.switchboard.contracts.registry.RegistryChange;
import dev.switchboard.registryclient.CachingRegistryClient;
import dev.switchboard.registryclient.RegistryClient;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The sockets of this gateway instance: per-tenant connection counts (the tenant's
 * {@code maxConnections} quota, enforced per instance), metrics, and graceful shutdown.
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
    private volatile boolean running;
    private volatile boolean draining;
    private volatile Disposable changes;

    Sessions(WebSocketProperties properties, MeterRegistry meters, RegistryClient registry) {
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

    /** Takes one of the tenant's connection slots; false when its quota is used up. */
    boolean admit(String tenant, int maxConnections) {
        AtomicInteger count = perTenant.computeIfAbsent(tenant, t -> new AtomicInteger());
        if (count.incrementAndGet() > maxConnections) {
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

    void lagging(String tenant) {
        meters.counter("switchboard.gateway.ws.lagging.disconnects", "tenant", tenant).increment();
    }

    int openCount() {
        return open.size();
    }

    @Override
    public void start() {
        running = true;
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
        Disposable feed = changes;
        if (feed != null) {
            feed.dispose();
        }
        int count = open.size();
        if (count == 0) {
            callback.run();
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
                    callback.run();
                })
                .subscribe(t -> { }, e -> { });
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
