package dev.switchboard.delivery.durable;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

import java.time.Duration;

/**
 * Settings of Durable Streams ({@code switchboard.delivery.streams.*}).
 *
 * @param longPollTimeout how long a long-poll read waits for data before it answers {@code 204} (under 20 s, which
 *                        clients and the conformance suite expect)
 * @param maxPerTenant    most live streams a tenant may have; a create past it is {@code 403 forbidden}
 * @param sseKeepAlive    how often a quiet SSE answer sends a comment line, so proxies with an idle timeout keep it open
 */
@Validated
@ConfigurationProperties("switchboard.delivery.streams")
record StreamSettings(Duration longPollTimeout, Long maxPerTenant, Duration sseKeepAlive) {

    static final Duration DEFAULT_LONG_POLL_TIMEOUT = Duration.ofSeconds(15);
    static final long DEFAULT_MAX_PER_TENANT = 100_000;
    static final Duration DEFAULT_SSE_KEEP_ALIVE = Duration.ofSeconds(15);

    StreamSettings {
        longPollTimeout = longPollTimeout == null ? DEFAULT_LONG_POLL_TIMEOUT : longPollTimeout;
        maxPerTenant = maxPerTenant == null ? DEFAULT_MAX_PER_TENANT : maxPerTenant;
        sseKeepAlive = sseKeepAlive == null ? DEFAULT_SSE_KEEP_ALIVE : sseKeepAlive;
        if (maxPerTenant < 1) {
            throw new IllegalArgumentException("switchboard.delivery.streams.max-per-tenant is at least 1");
        }
        if (longPollTimeout.isNegative() || longPollTimeout.isZero() || longPollTimeout.compareTo(Duration.ofSeconds(20)) >= 0) {
            throw new IllegalArgumentException("switchboard.delivery.streams.long-poll-timeout is above 0 and under 20 s");
        }
    }
}
