package dev.switchboard.delivery.durable;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

import java.time.Duration;

/**
 * Settings of Durable Streams ({@code switchboard.delivery.streams.*}).
 *
 * @param longPollTimeout how long a long-poll read waits for data before it answers {@code 204} (under 20 s, which
 *                        clients and the conformance suite expect)
 */
@Validated
@ConfigurationProperties("switchboard.delivery.streams")
record StreamSettings(Duration longPollTimeout) {

    static final Duration DEFAULT_LONG_POLL_TIMEOUT = Duration.ofSeconds(15);

    StreamSettings {
        longPollTimeout = longPollTimeout == null ? DEFAULT_LONG_POLL_TIMEOUT : longPollTimeout;
        if (longPollTimeout.isNegative() || longPollTimeout.isZero() || longPollTimeout.compareTo(Duration.ofSeconds(20)) >= 0) {
            throw new IllegalArgumentException("switchboard.delivery.streams.long-poll-timeout is above 0 and under 20 s");
        }
    }
}
