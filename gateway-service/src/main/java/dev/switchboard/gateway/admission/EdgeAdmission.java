package dev.switchboard.gateway.admission;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.registry.TenantQuotas;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.registryclient.RegistryClient;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Turns a tenant's excess away at the edge, before it costs the event loops anything that other
 * tenants need: no body is read, no topic looked up, nothing forwarded to delivery. Two bounds per
 * tenant, both in this gateway's memory:
 * <ul>
 *   <li>concurrent work: at most {@code maxInflightRequests} of its {@code /v1} requests and WebSocket
 *       {@code publish} frames at once;</li>
 *   <li>publish requests: a Bucket4j bucket of the tenant's {@code publishPerSecond} (capacity its
 *       {@code burst}), one token per request. A request carries at least one event and delivery
 *       takes one token per event from a bucket of the same rate, so what the edge turns away,
 *       delivery would have refused too; delivery's buckets stay the exact ones (per event, per
 *       topic, shared by every delivery instance).</li>
 * </ul>
 * The quotas come from the registry client's cache (a change applies within a second). When they
 * cannot be had, only the concurrency bound applies and delivery decides.
 */
@Component
@EnableConfigurationProperties(AdmissionProperties.class)
public class EdgeAdmission {

    /** Where a request came in, for the refusal metric. */
    public enum Transport {
        HTTP("http"), WEBSOCKET("ws");

        private final String tag;

        Transport(String tag) {
            this.tag = tag;
        }
    }

    /** A request's place among its tenant's in-flight work; released once, however often it is asked to. */
    public final class Admitted {
        private final String tenant;
        private final AtomicBoolean released = new AtomicBoolean();

        private Admitted(String tenant) {
            this.tenant = tenant;
        }

        public void release() {
            if (released.compareAndSet(false, true)) {
                inflight.computeIfPresent(tenant, (t, count) -> count.decrementAndGet() == 0 ? null : count);
            }
        }
    }

    private record Limited(int perSecond, int burst, Bucket bucket) {
        static Limited of(int perSecond, int burst) {
            return new Limited(perSecond, burst, Bucket.builder()
                    .addLimit(limit -> limit.capacity(capacity(perSecond, burst)).refillGreedy(Math.max(1, perSecond), Duration.ofSeconds(1)))
                    .build());
        }

        static long capacity(int perSecond, int burst) {
            return Math.max(1, Math.max(burst, perSecond));
        }
    }

    private final AdmissionProperties properties;
    private final RegistryClient registry;
    private final MeterRegistry meters;
    private final ConcurrentHashMap<String, AtomicInteger> inflight = new ConcurrentHashMap<>();
    private final Cache<String, Limited> buckets = Caffeine.newBuilder()
            .expireAfterAccess(Duration.ofMinutes(10)).maximumSize(100_000).build();

    EdgeAdmission(AdmissionProperties properties, RegistryClient registry, MeterRegistry meters) {
        this.properties = properties;
        this.registry = registry;
        this.meters = meters;
    }

    public boolean enabled() {
        return properties.enabled();
    }

    /**
     * Admits one request of {@code tenant} (a publish takes a token of its bucket too), or fails with
     * {@code rate_limited} carrying when to retry. The caller releases what it was given when the work ends.
     */
    public Mono<Admitted> admit(String tenant, Transport transport, boolean publish) {
        return Mono.defer(() -> {
            if (!properties.enabled()) {
                return Mono.just(new Admitted(null)).doOnNext(a -> a.released.set(true));
            }
            Admitted admitted = enter(tenant, transport);
            if (!publish) {
                return Mono.just(admitted);
            }
            return registry.quotas(tenant)
                    .map(quotas -> {
                        take(tenant, quotas, transport);
                        return admitted;
                    })
                    // Without quotas the bucket cannot be checked here: delivery's still is.
                    .onErrorResume(e -> !(e instanceof SwitchboardException s && s.code() == ErrorCode.RATE_LIMITED),
                            e -> Mono.just(admitted))
                    .defaultIfEmpty(admitted)
                    .doOnError(e -> admitted.release())
                    .doOnCancel(admitted::release);
        });
    }

    /** A refusal decided without any work: why, what the client is told, and when to retry. */
    public record Refusal(String reason, String detail, Duration retryAfter) {
    }

    /**
     * Whether a publish of {@code tenant} would be refused right now, judged from what is already in
     * memory (its in-flight count, its bucket) without taking anything: for {@link EdgeFastPath},
     * which answers before the request enters the web stack. Counted as refused when it would be.
     * Empty when it might pass: the request then goes the usual way, through {@link #admit}.
     */
    Optional<Refusal> wouldRefuse(String tenant, TenantQuotas quotas) {
        if (!properties.enabled()) {
            return Optional.empty();
        }
        int max = properties.maxInflightRequests();
        if (inflight(tenant) >= max) {
            refused(tenant, "inflight", Transport.HTTP, "decoder");
            return Optional.of(new Refusal("inflight", busyDetail(max), properties.busyRetryAfter()));
        }
        Limited limited = buckets.getIfPresent(tenant);
        if (limited == null || limited.perSecond() != quotas.publishPerSecond() || limited.burst() != quotas.burst()
                || limited.bucket().getAvailableTokens() >= 1) {
            return Optional.empty();
        }
        refused(tenant, "quota", Transport.HTTP, "decoder");
        Duration wait = Duration.ofNanos(Math.max(1, limited.bucket().estimateAbilityToConsume(1).getNanosToWaitForRefill()));
        return Optional.of(new Refusal("quota", quotaDetail(limited, wait), wait));
    }

    private static String busyDetail(int max) {
        return "The tenant has " + max + " requests in progress at this gateway, its most at once; retry in a moment.";
    }

    private static String quotaDetail(Limited limited, Duration wait) {
        return "Over the tenant's publish quota (" + limited.perSecond() + "/s, burst " + limited.burst() + "); retry in "
                + Math.max(1, wait.toMillis()) + " ms.";
    }

    /** How many requests of the tenant this gateway is working on. */
    public int inflight(String tenant) {
        AtomicInteger count = inflight.get(tenant);
        return count == null ? 0 : count.get();
    }

    private Admitted enter(String tenant, Transport transport) {
        int max = properties.maxInflightRequests();
        AtomicBoolean over = new AtomicBoolean();
        inflight.compute(tenant, (t, count) -> {
            AtomicInteger c = count == null ? new AtomicInteger() : count;
            if (c.get() >= max) {
                over.set(true);
            } else {
                c.incrementAndGet();
            }
            return c.get() == 0 ? null : c;
        });
        if (over.get()) {
            refused(tenant, "inflight", transport);
            Duration wait = properties.busyRetryAfter();
            throw SwitchboardException.retryLater(ErrorCode.RATE_LIMITED, busyDetail(max), wait);
        }
        return new Admitted(tenant);
    }

    private void take(String tenant, TenantQuotas quotas, Transport transport) {
        Limited limited = bucket(tenant, quotas.publishPerSecond(), quotas.burst());
        ConsumptionProbe probe = limited.bucket().tryConsumeAndReturnRemaining(1);
        if (probe.isConsumed()) {
            return;
        }
        refused(tenant, "quota", transport);
        Duration wait = Duration.ofNanos(Math.max(1, probe.getNanosToWaitForRefill()));
        throw SwitchboardException.retryLater(ErrorCode.RATE_LIMITED, quotaDetail(limited, wait), wait);
    }

    private Limited bucket(String tenant, int perSecond, int burst) {
        Limited current = buckets.get(tenant, t -> Limited.of(perSecond, burst));
        if (current.perSecond() != perSecond || current.burst() != burst) {
            // The registry changed the quota: the new rate starts full rather than carrying the old state over.
            Limited replaced = Limited.of(perSecond, burst);
            buckets.asMap().replace(tenant, current, replaced);
            return buckets.get(tenant, t -> replaced);
        }
        return current;
    }

    private void refused(String tenant, String reason, Transport transport) {
        refused(tenant, reason, transport, "filter");
    }

    /** @param at where: {@code decoder} ({@link EdgeFastPath}, before the web stack) or {@code filter} (the security chain, the socket) */
    private void refused(String tenant, String reason, Transport transport, String at) {
        Counter.builder("switchboard.gateway.edge.refused")
                .description("Requests and publish frames refused at the gateway before any work (tenant bucket or concurrency)")
                .tags("tenant", tenant, "reason", reason, "transport", transport.tag, "at", at)
                .register(meters).increment();
    }
}
