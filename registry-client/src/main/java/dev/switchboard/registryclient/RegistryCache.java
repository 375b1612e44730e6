package dev.switchboard.registryclient;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.registry.KeyPrincipal;
import dev.switchboard.platform.problem.SwitchboardException;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics;
import reactor.core.publisher.Mono;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The answers of the registry, each cached once per key. Concurrent misses of one key share one
 * request (the in-flight future is the cache entry); a failure is never cached, a negative answer
 * only for {@code negativeTtl}. How old an answer may be when served is decided per read: up to
 * {@code maxAge} while the change feed vouches for the cache, else only {@code degradedMaxAge}.
 */
final class RegistryCache {

    /** The {@code cache} tag of Caffeine's metrics ({@code cache.gets}, {@code cache.size}, …). */
    static final String CACHE_NAME = "switchboard.registry-client";

    private final AsyncCache<CacheKey, Cached> cache;
    private final LongSupplier servableAgeNanos;

    /**
     * @param servableAgeNanos the oldest an answer may be to be served right now, asked on every read
     */
    RegistryCache(RegistryClientProperties properties, MeterRegistry meters, LongSupplier servableAgeNanos) {
        long maxAge = properties.maxAge().toNanos();
        long negativeTtl = properties.negativeTtl().toNanos();
        this.cache = Caffeine.newBuilder()
                .maximumSize(properties.maxEntries())
                .expireAfter(new Expiry<CacheKey, Cached>() {
                    @Override
                    public long expireAfterCreate(CacheKey key, Cached value, long currentTime) {
                        if (value.failed()) {
                            return 0;
                        }
                        return value.negative() ? negativeTtl : maxAge;
                    }

                    @Override
                    public long expireAfterUpdate(CacheKey key, Cached value, long currentTime, long currentDuration) {
                        return expireAfterCreate(key, value, currentTime);
                    }

                    @Override
                    public long expireAfterRead(CacheKey key, Cached value, long currentTime, long currentDuration) {
                        return currentDuration;
                    }
                })
                .recordStats()
                .buildAsync();
        CaffeineCacheMetrics.monitor(meters, cache, CACHE_NAME);
        this.servableAgeNanos = servableAgeNanos;
    }

    /**
     * The cached answer for {@code key}, else the one {@code fetch} brings — shared with every
     * concurrent caller of the same key. The request outlives a caller that cancels (others may be
     * waiting on it) but never the client's request timeout.
     */
    <T> Mono<T> get(CacheKey key, Class<T> type, Supplier<Mono<T>> fetch) {
        return Mono.defer(() -> {
            Map<CacheKey, CompletableFuture<Cached>> map = cache.asMap();
            CompletableFuture<Cached> present = map.get(key); // a peek: Caffeine records no stats for it
            if (present != null && tooOld(present)) {
                map.remove(key, present);
            }
            CompletableFuture<Cached> future = cache.get(key, (k, executor) -> load(fetch));
            return Mono.fromFuture(future, true).flatMap(cached -> {
                if (cached.failed()) {
                    map.remove(key, future);
                }
                return cached.as(type);
            });
        });
    }

    /**
     * The answer cached for {@code key} if there is one that may be served now, without asking the
     * registry or waiting: for callers that must decide on the spot (the gateway's edge) and go the
     * usual way otherwise.
     */
    <T> Optional<T> peek(CacheKey key, Class<T> type) {
        CompletableFuture<Cached> present = cache.asMap().get(key);
        if (present == null || !present.isDone() || tooOld(present)) {
            return Optional.empty();
        }
        Cached cached = present.getNow(null);
        return cached == null || cached.error() != null || !type.isInstance(cached.value())
                ? Optional.empty() : Optional.of(type.cast(cached.value()));
    }

    /**
     * Failures complete the future normally too (and expire at once): a future that completes
     * exceptionally makes Caffeine log a stack trace per failed lookup, which an outage would turn
     * into a flood.
     */
    private static <T> CompletableFuture<Cached> load(Supplier<Mono<T>> fetch) {
        // Stamped when the request starts: the answer is at least that fresh, never fresher.
        long started = System.nanoTime();
        return fetch.get()
                .map(value -> new Cached(value, null, started))
                .onErrorResume(error -> Mono.just(new Cached(null, error, started)))
                .toFuture();
    }

    private boolean tooOld(CompletableFuture<Cached> future) {
        if (!future.isDone()) {
            return false; // in flight: join it
        }
        Cached cached = future.getNow(null);
        return cached == null || cached.failed() || System.nanoTime() - cached.loadedAtNanos() > servableAgeNanos.getAsLong();
    }

    /** Everything of one tenant: topics, secrets, quotas and the API keys that belong to it. */
    void invalidateTenant(String tenant) {
        removeIf(key -> tenant.equals(key.tenant()), keyEntryOf(tenant));
    }

    /** Every topic answer of a tenant: a pattern's change affects names that cannot be listed. */
    void invalidateTopics(String tenant) {
        removeIf(key -> key instanceof CacheKey.Topic && tenant.equals(key.tenant()), entry -> false);
    }

    /** The tenant's API keys, every negative key answer (a key may just have been created) and any key lookup in flight. */
    void invalidateKeys(String tenant) {
        removeIf(key -> false, keyEntryOf(tenant));
    }

    void invalidate(CacheKey key) {
        cache.synchronous().invalidate(key);
    }

    void invalidateAll() {
        cache.synchronous().invalidateAll();
    }

    /** The keys held right now, lookups in flight included. */
    Set<CacheKey> keys() {
        return Set.copyOf(cache.asMap().keySet());
    }

    /**
     * An API key's tenant is known only from its answer, so a lookup still in flight might belong to
     * the tenant and is dropped too: otherwise it could land after the change and be served for
     * {@code maxAge}.
     */
    private static Predicate<Map.Entry<CacheKey, CompletableFuture<Cached>>> keyEntryOf(String tenant) {
        return entry -> {
            if (!(entry.getKey() instanceof CacheKey.ApiKey)) {
                return false;
            }
            Cached cached = entry.getValue().getNow(null);
            return cached == null || cached.error() != null
                    || (cached.value() instanceof KeyPrincipal principal && tenant.equals(principal.tenant()));
        };
    }

    private void removeIf(Predicate<CacheKey> byKey, Predicate<Map.Entry<CacheKey, CompletableFuture<Cached>>> byEntry) {
        cache.asMap().entrySet().removeIf(entry -> byKey.test(entry.getKey()) || byEntry.test(entry));
    }

    /**
     * An answer: a value, a negative verdict of the registry (cached briefly) or a failure (handed to
     * the callers that shared the request, never cached).
     */
    record Cached(Object value, Throwable error, long loadedAtNanos) {

        boolean negative() {
            return error instanceof SwitchboardException known && RegistryHttp.NEGATIVE.contains(known.code());
        }

        boolean failed() {
            return error != null && !negative();
        }

        <T> Mono<T> as(Class<T> type) {
            if (error == null) {
                return Mono.just(type.cast(value));
            }
            if (error instanceof SwitchboardException known) {
                // A fresh exception per caller: problem bodies are mutable and must not be shared.
                ErrorCode code = known.code();
                String detail = known.getBody().getDetail();
                return Mono.error(new SwitchboardException(code, detail == null ? code.title() : detail, known.getCause()));
            }
            return Mono.error(error);
        }
    }
}
