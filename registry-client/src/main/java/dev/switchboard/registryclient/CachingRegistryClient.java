package dev.switchboard.registryclient;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.registry.ClientSecrets;
import dev.switchboard.contracts.registry.ConnectionReport;
import dev.switchboard.contracts.registry.KeyPrincipal;
import dev.switchboard.contracts.registry.InstanceReport;
import dev.switchboard.contracts.registry.RegistryChange;
import dev.switchboard.contracts.registry.ResolvedTopic;
import dev.switchboard.contracts.registry.TenantQuotas;
import dev.switchboard.platform.problem.SwitchboardException;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The {@link RegistryClient} of every service: WebClient calls to registry-service's internal API
 * behind a Caffeine cache that the registry's change feed keeps correct.
 *
 * <p>{@link #start()} opens the feed (Spring does it through the auto-configuration's lifecycle);
 * {@link #close()} stops it. Lookups work before {@code start()} and after a feed loss, but then
 * nothing older than {@code degradedMaxAge} is served.
 *
 * <p>Metrics: {@code switchboard.registry.client.requests} (timer; tags {@code call},
 * {@code outcome}), {@code switchboard.registry.client.feed.disconnects} (counter; tag
 * {@code reason}: {@code broken|silent|closed|rejected}), {@code switchboard.registry.client.feed.healthy}
 * (gauge) and Caffeine's {@code cache.gets}/{@code cache.size}/{@code cache.evictions}… with
 * {@code cache=switchboard.registry-client}.
 */
public class CachingRegistryClient implements RegistryClient, AutoCloseable {

    /**
     * The tenant of a {@code TENANT} change that means "anything may have changed: drop
     * everything". The registry sends it when it cannot replay from the requested id; this client
     * also emits it on {@link #changes()} whenever the feed (re)opens.
     */
    public static final String RESET_TENANT = "*";

    private final RegistryHttp http;
    private final RegistryCache cache;
    private final ChangeFeed feed;

    /**
     * @param webClientBuilder the application's builder (codecs, observation); cloned, not changed
     * @param meters           where the client's metrics go
     */
    public CachingRegistryClient(WebClient.Builder webClientBuilder, RegistryClientProperties properties, MeterRegistry meters) {
        this(webClientBuilder, properties, meters, "registry-client");
    }

    /**
     * @param service what this process is ({@code spring.application.name}): the first part of the name it
     *                follows the change feed under, so the registry's log names who did not confirm a change
     */
    public CachingRegistryClient(WebClient.Builder webClientBuilder, RegistryClientProperties properties, MeterRegistry meters,
                                 String service) {
        this.http = new RegistryHttp(webClientBuilder, properties, meters);
        this.cache = new RegistryCache(properties, meters, this::servableAgeNanos);
        this.feed = new ChangeFeed(http, cache, properties, meters, subscriberName(service));
    }

    /** {@code <service>-<12 hex>}: unique per process, within the registry's [A-Za-z0-9_-]{1,64}. */
    static String subscriberName(String service) {
        String prefix = service == null ? "" : service.replaceAll("[^A-Za-z0-9_-]", "-");
        prefix = prefix.isEmpty() ? "registry-client" : prefix.substring(0, Math.min(prefix.length(), 48));
        byte[] random = new byte[6];
        ThreadLocalRandom.current().nextBytes(random);
        return prefix + "-" + HexFormat.of().formatHex(random);
    }

    /** The name this process follows the change feed under. */
    public String subscriber() {
        return feed.subscriber();
    }

    /** Opens the change feed. Idempotent. */
    public void start() {
        feed.start();
    }

    /** Stops the change feed and completes {@link #changes()}. Idempotent; the client cannot be restarted. */
    @Override
    public void close() {
        feed.stop();
    }

    /** True between {@link #start()} and {@link #close()}. */
    public boolean isRunning() {
        return feed.running();
    }

    /** True while the change feed is open and recent enough to vouch for cached answers (for health checks). */
    public boolean feedHealthy() {
        return feed.healthy();
    }

    @Override
    public Mono<KeyPrincipal> resolveKey(String apiKey) {
        if (apiKey == null || apiKey.isBlank()) {
            return Mono.error(() -> new SwitchboardException(ErrorCode.UNAUTHENTICATED, "An API key is required."));
        }
        return cache.get(CacheKey.ApiKey.of(apiKey), KeyPrincipal.class, () -> http.resolveKey(apiKey));
    }

    @Override
    public Mono<ResolvedTopic> resolveTopic(String tenant, String topic) {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(topic, "topic");
        // Each name is looked up, cached and invalidated on its own; a .dlq answer is only its parent's.
        return RegistryClient.withDeadLetterTopics(tenant, topic,
                (t, name) -> cache.get(new CacheKey.Topic(t, name), ResolvedTopic.class, () -> http.resolveTopic(t, name)));
    }

    @Override
    public Mono<ClientSecrets> clientSecrets(String tenant) {
        Objects.requireNonNull(tenant, "tenant");
        return cache.get(new CacheKey.Secrets(tenant), ClientSecrets.class, () -> http.clientSecrets(tenant));
    }

    @Override
    public Optional<KeyPrincipal> cachedKey(String apiKey) {
        return cache.peek(CacheKey.ApiKey.of(apiKey), KeyPrincipal.class);
    }

    @Override
    public Optional<TenantQuotas> cachedQuotas(String tenant) {
        return cache.peek(new CacheKey.Quotas(tenant), TenantQuotas.class);
    }

    @Override
    public Mono<TenantQuotas> quotas(String tenant) {
        Objects.requireNonNull(tenant, "tenant");
        return cache.get(new CacheKey.Quotas(tenant), TenantQuotas.class, () -> http.quotas(tenant));
    }

    @Override
    public Flux<RegistryChange> changes() {
        return feed.changes();
    }

    @Override
    public Mono<Map<String, Integer>> reportConnections(String gateway, Map<String, Integer> counts,
                                                        Map<String, java.util.List<String>> watched, Duration ttl) {
        return http.reportConnections(gateway, new ConnectionReport(ttl.toMillis(), counts, watched))
                .map(ConnectionReport.ConnectionTotals::others);
    }

    @Override
    public Mono<Integer> reportDeliveryInstance(String instance, Duration ttl) {
        return http.reportDeliveryInstance(instance, new InstanceReport(ttl.toMillis())).map(InstanceReport.LiveInstances::live);
    }

    @Override
    public Mono<Void> leaveDeliveryInstance(String instance) {
        return http.leaveDeliveryInstance(instance);
    }

    private long servableAgeNanos() {
        return feed.servableAgeNanos();
    }

    /** The last change id seen: where the feed resumes. */
    long lastChangeId() {
        return feed.lastId();
    }

    Set<CacheKey> cacheKeys() {
        return cache.keys();
    }
}
