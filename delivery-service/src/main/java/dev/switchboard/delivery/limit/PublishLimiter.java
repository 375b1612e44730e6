package dev.switchboard.delivery.limit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.registry.TenantQuotas;
import dev.switchboard.contracts.registry.TopicSettings.PublishRate;
import dev.switchboard.platform.problem.SwitchboardException;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TokensInheritanceStrategy;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.stereotype.Component;

import java.time.Duration;

/**
 * The publish token buckets ({@code ARCHITECTURE.md}, "The path of one event", step 2): one per
 * tenant from its quotas ({@code publishPerSecond}, {@code burst}) and one per topic from its
 * settings ({@code publishRate}). An event takes one token from each; a request takes all its
 * events' tokens or none. An empty bucket is {@code 429 rate_limited} with {@code Retry-After}
 * (and {@code retryAfterMs}) saying when the request would fit.
 *
 * <p>The rates hold across instances by an honest share: with N live delivery instances
 * ({@link InstanceShare}, learned from the registry), each bucket here refills at 1/N of the rate
 * and holds 1/N of the burst, so behind a balancer that spreads a tenant's requests evenly the
 * instances together accept the configured rate. A request larger than this instance's share of
 * the burst is taken when the bucket is full and leaves it in debt, repaid at the shared rate, so a
 * large batch still fits while the long-run rate holds; one larger than the whole burst never fits,
 * and says so. Why not one shared bucket: Bucket4j's PostgreSQL backend is JDBC (blocking, not for an
 * event loop) and a shared bucket costs a database round trip and a hot row on every publish. The
 * share's limit: an instance that gets more than 1/N of a tenant's requests refuses earlier.
 *
 * <p>Buckets are Bucket4j's, in this instance's memory. When a rate changes in the registry or the
 * instance count changes, the bucket is reconfigured keeping its fill in proportion (not refilled),
 * and it is forgotten after ten idle minutes.
 */
@Component
@EnableConfigurationProperties(PublishLimiter.Settings.class)
public class PublishLimiter {

    /**
     * @param enabled                whether the buckets are enforced ({@code switchboard.delivery.limits.enabled}, default on)
     * @param instanceReportInterval how often this instance reports itself to the registry and learns how many share the rates
     * @param instanceTtl            how long a report counts: an instance that stops reporting stops counting after this
     */
    @ConfigurationProperties("switchboard.delivery.limits")
    public record Settings(Boolean enabled, Duration instanceReportInterval, Duration instanceTtl) {
        public static final Duration DEFAULT_INSTANCE_REPORT_INTERVAL = Duration.ofSeconds(2);
        public static final Duration DEFAULT_INSTANCE_TTL = Duration.ofSeconds(6);

        public Settings {
            enabled = enabled == null || enabled;
            instanceReportInterval = instanceReportInterval == null ? DEFAULT_INSTANCE_REPORT_INTERVAL : instanceReportInterval;
            instanceTtl = instanceTtl == null ? DEFAULT_INSTANCE_TTL : instanceTtl;
        }
    }

    /** A bucket and what it was configured from: the rate, the burst and the instances sharing them. */
    private record Limited(int perSecond, int burst, int share, Bucket bucket) {
        boolean sameAs(int perSecond, int burst, int share) {
            return this.perSecond == perSecond && this.burst == burst && this.share == share;
        }

        static long wholeBurst(int perSecond, int burst) {
            return Math.max(1, Math.max(burst, perSecond));
        }

        long capacity() {
            return capacity(perSecond, burst, share);
        }

        static long capacity(int perSecond, int burst, int share) {
            return Math.max(1, (wholeBurst(perSecond, burst) + share - 1) / share);
        }

        static BucketConfiguration configuration(int perSecond, int burst, int share) {
            // perSecond tokens every share seconds: exactly 1/share of the rate, however small.
            return BucketConfiguration.builder()
                    .addLimit(limit -> limit.capacity(capacity(perSecond, burst, share))
                            .refillGreedy(Math.max(1, perSecond), Duration.ofSeconds(share)))
                    .build();
        }

        static Limited of(int perSecond, int burst, int share) {
            return new Limited(perSecond, burst, share, Bucket.builder()
                    .addLimit(configuration(perSecond, burst, share).getBandwidths()[0]).build());
        }
    }

    private record TopicKey(String tenant, String topic) { }

    private final boolean enabled;
    private final MeterRegistry meters;
    private final InstanceShare instances;
    private final Cache<String, Limited> tenants = Caffeine.newBuilder()
            .expireAfterAccess(Duration.ofMinutes(10)).maximumSize(100_000).build();
    private final Cache<TopicKey, Limited> topics = Caffeine.newBuilder()
            .expireAfterAccess(Duration.ofMinutes(10)).maximumSize(1_000_000).build();

    PublishLimiter(Settings settings, MeterRegistry meters, InstanceShare instances) {
        this.enabled = settings.enabled();
        this.meters = meters;
        this.instances = instances;
    }

    /** Takes {@code events} tokens from the tenant's and the topic's bucket, or none and throws {@code rate_limited}. */
    public void acquire(String tenant, String topic, TenantQuotas quotas, PublishRate rate, int events) {
        if (!enabled) {
            return;
        }
        int share = instances.live();
        Limited tenantBucket = bucket(tenants, tenant, quotas.publishPerSecond(), quotas.burst(), share);
        PublishRate topicRate = rate == null ? PublishRate.DEFAULT : rate;
        Limited topicBucket = bucket(topics, new TopicKey(tenant, topic), topicRate.perSecond(), topicRate.burst(), share);
        take(tenantBucket, events, tenant, "tenant", "the tenant's publish quota");
        try {
            take(topicBucket, events, tenant, "topic", "the topic's publish rate");
        } catch (SwitchboardException e) {
            tenantBucket.bucket().addTokens(events);
            throw e;
        }
    }

    private static <K> Limited bucket(Cache<K, Limited> cache, K key, int perSecond, int burst, int share) {
        Limited current = cache.get(key, k -> Limited.of(perSecond, burst, share));
        if (!current.sameAs(perSecond, burst, share)) {
            // The registry changed the rate, or instances came or went: same fill in proportion, new limits.
            current.bucket().replaceConfiguration(Limited.configuration(perSecond, burst, share),
                    TokensInheritanceStrategy.PROPORTIONALLY);
            Limited replaced = new Limited(perSecond, burst, share, current.bucket());
            cache.asMap().replace(key, current, replaced);
            return cache.get(key, k -> replaced);
        }
        return current;
    }

    private void take(Limited limited, int events, String tenant, String which, String what) {
        long capacity = limited.capacity();
        if (events > capacity && events <= Limited.wholeBurst(limited.perSecond(), limited.burst())
                && limited.bucket().getAvailableTokens() >= capacity) {
            // More than this instance's share of the burst, but within the whole burst: a full bucket
            // lends it, and the debt is repaid at the shared rate.
            limited.bucket().consumeIgnoringRateLimits(events);
            return;
        }
        ConsumptionProbe probe = events > capacity ? null : limited.bucket().tryConsumeAndReturnRemaining(events);
        if (probe != null && probe.isConsumed()) {
            return;
        }
        Counter.builder("switchboard.delivery.publish.throttled")
                .description("Publish requests refused by a token bucket")
                .tags("tenant", tenant, "bucket", which)
                .register(meters).increment();
        long wholeBurst = Limited.wholeBurst(limited.perSecond(), limited.burst());
        if (events > wholeBurst) {
            throw SwitchboardException.retryLater(ErrorCode.RATE_LIMITED, "A request of " + events + " events exceeds "
                    + what + " burst of " + wholeBurst + "; send smaller batches.", Duration.ofSeconds(1));
        }
        long nanos = probe != null ? probe.getNanosToWaitForRefill()
                : limited.bucket().estimateAbilityToConsume(capacity).getNanosToWaitForRefill();
        Duration wait = Duration.ofNanos(Math.max(1, nanos));
        throw SwitchboardException.retryLater(ErrorCode.RATE_LIMITED, "Over " + what + " (" + limited.perSecond()
                + "/s, burst " + limited.burst() + "); retry in " + Math.max(1, wait.toMillis()) + " ms.", wait);
    }
}
