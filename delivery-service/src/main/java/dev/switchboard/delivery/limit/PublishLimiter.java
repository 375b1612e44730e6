package dev.switchboard.delivery.limit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.registry.TenantQuotas;
import dev.switchboard.contracts.registry.TopicSettings.PublishRate;
import dev.switchboard.platform.problem.SwitchboardException;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
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
 * (and {@code retryAfterMs}) saying when the request would fit; a request larger than a bucket's
 * burst can never fit, and says so.
 *
 * <p>Buckets are Bucket4j's, kept in this instance's memory, so with several delivery instances
 * behind a balancer each enforces the full rate: the limits bound what one instance accepts. A
 * bucket is rebuilt when its rate changes in the registry, and forgotten after ten idle minutes.
 */
@Component
@EnableConfigurationProperties(PublishLimiter.Settings.class)
public class PublishLimiter {

    /** @param enabled whether the buckets are enforced ({@code switchboard.delivery.limits.enabled}, default on) */
    @ConfigurationProperties("switchboard.delivery.limits")
    public record Settings(Boolean enabled) {
        public Settings {
            enabled = enabled == null || enabled;
        }
    }

    private record Limited(int perSecond, int burst, Bucket bucket) {
        static Limited of(int perSecond, int burst) {
            int capacity = Math.max(1, Math.max(burst, perSecond));
            return new Limited(perSecond, burst, Bucket.builder()
                    .addLimit(limit -> limit.capacity(capacity).refillGreedy(Math.max(1, perSecond), Duration.ofSeconds(1)))
                    .build());
        }
    }

    private record TopicKey(String tenant, String topic) { }

    private final boolean enabled;
    private final MeterRegistry meters;
    private final Cache<String, Limited> tenants = Caffeine.newBuilder()
            .expireAfterAccess(Duration.ofMinutes(10)).maximumSize(100_000).build();
    private final Cache<TopicKey, Limited> topics = Caffeine.newBuilder()
            .expireAfterAccess(Duration.ofMinutes(10)).maximumSize(1_000_000).build();

    PublishLimiter(Settings settings, MeterRegistry meters) {
        this.enabled = settings.enabled();
        this.meters = meters;
    }

    /** Takes {@code events} tokens from the tenant's and the topic's bucket, or none and throws {@code rate_limited}. */
    public void acquire(String tenant, String topic, TenantQuotas quotas, PublishRate rate, int events) {
        if (!enabled) {
            return;
        }
        Limited tenantBucket = bucket(tenants, tenant, quotas.publishPerSecond(), quotas.burst());
        PublishRate topicRate = rate == null ? PublishRate.DEFAULT : rate;
        Limited topicBucket = bucket(topics, new TopicKey(tenant, topic), topicRate.perSecond(), topicRate.burst());
        take(tenantBucket, events, tenant, "tenant", "the tenant's publish quota");
        try {
            take(topicBucket, events, tenant, "topic", "the topic's publish rate");
        } catch (SwitchboardException e) {
            tenantBucket.bucket().addTokens(events);
            throw e;
        }
    }

    private static <K> Limited bucket(Cache<K, Limited> cache, K key, int perSecond, int burst) {
        Limited current = cache.get(key, k -> Limited.of(perSecond, burst));
        if (current.perSecond() != perSecond || current.burst() != burst) {
            // The registry changed the rate: start the new one full rather than carry the old state over.
            Limited replaced = Limited.of(perSecond, burst);
            cache.asMap().replace(key, current, replaced);
            return cache.get(key, k -> replaced);
        }
        return current;
    }

    private void take(Limited limited, int events, String tenant, String which, String what) {
        ConsumptionProbe probe = limited.bucket().tryConsumeAndReturnRemaining(events);
        if (probe.isConsumed()) {
            return;
        }
        Counter.builder("switchboard.delivery.publish.throttled")
                .description("Publish requests refused by a token bucket")
                .tags("tenant", tenant, "bucket", which)
                .register(meters).increment();
        long capacity = Math.max(1, Math.max(limited.burst(), limited.perSecond()));
        if (events > capacity) {
            throw SwitchboardException.retryLater(ErrorCode.RATE_LIMITED, "A request of " + events + " events exceeds "
                    + what + " burst of " + capacity + "; send smaller batches.", Duration.ofSeconds(1));
        }
        Duration wait = Duration.ofNanos(Math.max(1, probe.getNanosToWaitForRefill()));
        throw SwitchboardException.retryLater(ErrorCode.RATE_LIMITED, "Over " + what + " (" + limited.perSecond()
                + "/s, burst " + limited.burst() + "); retry in " + Math.max(1, wait.toMillis()) + " ms.", wait);
    }
}
