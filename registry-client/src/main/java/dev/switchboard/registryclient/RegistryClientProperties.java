package dev.switchboard.registryclient;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

import java.time.Duration;

/**
 * Settings of the registry client ({@code switchboard.registry-client.*}). Every field but the
 * first two has a default; a null (unset) field takes it.
 *
 * @param baseUrl                 where registry-service listens, e.g. {@code http://localhost:8081}; the client exists only when this is set
 * @param serviceToken            the bearer token of {@code /internal/v1} ({@code SWITCHBOARD_SERVICE_TOKEN}); must match the registry's {@code switchboard.registry.service-token}
 * @param requestTimeout          the most one lookup may take, retries included; past it the caller gets {@code unavailable}
 * @param retries                 how many times a lookup is retried after a connection error or a 5xx (never after a 4xx)
 * @param retryBackoff            the first pause before a retry; it doubles with jitter
 * @param negativeTtl             how long a negative answer ({@code topic_not_found}, {@code not_found}, {@code unauthenticated}) is cached
 * @param maxAge                  the longest an answer is cached while the change feed is healthy
 * @param degradedMaxAge          the oldest answer served while the change feed is not healthy: the bound on staleness the feed otherwise provides
 * @param maxEntries              the most answers cached; the least useful are evicted first
 * @param feedHeartbeat           the registry's heartbeat interval ({@code switchboard.registry.heartbeat-interval}); a feed silent for longer than this plus {@code degradedMaxAge} no longer counts as healthy
 * @param feedLivenessTimeout     a feed silent for this long is dropped and reopened; longer than {@code feedHeartbeat}
 * @param feedReconnectBackoff    the first pause before reopening a broken feed; it doubles with jitter
 * @param feedReconnectMaxBackoff the longest pause between attempts to reopen the feed
 */
@Validated
@ConfigurationProperties("switchboard.registry-client")
public record RegistryClientProperties(
        @NotBlank String baseUrl,
        @NotBlank String serviceToken,
        Duration requestTimeout,
        @Min(0) @Max(10) Integer retries,
        Duration retryBackoff,
        Duration negativeTtl,
        Duration maxAge,
        Duration degradedMaxAge,
        @Min(1) Integer maxEntries,
        Duration feedHeartbeat,
        Duration feedLivenessTimeout,
        Duration feedReconnectBackoff,
        Duration feedReconnectMaxBackoff) {

    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(2);
    public static final int DEFAULT_RETRIES = 2;
    public static final Duration DEFAULT_RETRY_BACKOFF = Duration.ofMillis(50);
    public static final Duration DEFAULT_NEGATIVE_TTL = Duration.ofSeconds(1);
    public static final Duration DEFAULT_MAX_AGE = Duration.ofMinutes(5);
    public static final Duration DEFAULT_DEGRADED_MAX_AGE = Duration.ofSeconds(1);
    public static final int DEFAULT_MAX_ENTRIES = 100_000;
    /** The registry's default heartbeat interval. */
    public static final Duration DEFAULT_FEED_HEARTBEAT = Duration.ofSeconds(5);
    /** Three heartbeats: one late or lost heartbeat does not tear down the feed and empty every cache. */
    public static final Duration DEFAULT_FEED_LIVENESS_TIMEOUT = Duration.ofSeconds(15);
    public static final Duration DEFAULT_FEED_RECONNECT_BACKOFF = Duration.ofMillis(100);
    public static final Duration DEFAULT_FEED_RECONNECT_MAX_BACKOFF = Duration.ofSeconds(5);

    public RegistryClientProperties {
        requestTimeout = positive("request-timeout", requestTimeout, DEFAULT_REQUEST_TIMEOUT);
        retries = retries == null ? DEFAULT_RETRIES : retries;
        retryBackoff = positive("retry-backoff", retryBackoff, DEFAULT_RETRY_BACKOFF);
        negativeTtl = positive("negative-ttl", negativeTtl, DEFAULT_NEGATIVE_TTL);
        maxAge = positive("max-age", maxAge, DEFAULT_MAX_AGE);
        degradedMaxAge = positive("degraded-max-age", degradedMaxAge, DEFAULT_DEGRADED_MAX_AGE);
        maxEntries = maxEntries == null ? DEFAULT_MAX_ENTRIES : maxEntries;
        feedHeartbeat = positive("feed-heartbeat", feedHeartbeat, DEFAULT_FEED_HEARTBEAT);
        feedLivenessTimeout = positive("feed-liveness-timeout", feedLivenessTimeout, DEFAULT_FEED_LIVENESS_TIMEOUT);
        feedReconnectBackoff = positive("feed-reconnect-backoff", feedReconnectBackoff, DEFAULT_FEED_RECONNECT_BACKOFF);
        feedReconnectMaxBackoff = positive("feed-reconnect-max-backoff", feedReconnectMaxBackoff, DEFAULT_FEED_RECONNECT_MAX_BACKOFF);
        if (feedLivenessTimeout.compareTo(feedHeartbeat) <= 0) {
            // Otherwise an idle, healthy feed would be torn down between two heartbeats.
            throw new IllegalArgumentException("switchboard.registry-client.feed-liveness-timeout (" + feedLivenessTimeout
                    + ") must be longer than feed-heartbeat (" + feedHeartbeat + ")");
        }
        if (feedReconnectMaxBackoff.compareTo(feedReconnectBackoff) < 0) {
            throw new IllegalArgumentException("switchboard.registry-client.feed-reconnect-max-backoff must not be shorter than feed-reconnect-backoff");
        }
    }

    /** Every default, for code that builds a client without Spring. */
    public static RegistryClientProperties of(String baseUrl, String serviceToken) {
        return new RegistryClientProperties(baseUrl, serviceToken, null, null, null, null, null, null, null, null, null, null, null);
    }

    private static Duration positive(String name, Duration value, Duration fallback) {
        if (value == null) {
            return fallback;
        }
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException("switchboard.registry-client." + name + " must be positive, was " + value);
        }
        return value;
    }
}
