package dev.switchboard.client;

import org.junit.jupiter.api.Test;
import reactor.netty.channel.AbortedException;

import java.net.ConnectException;
import java.time.Duration;
import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;

class RetryRulesTests {

    private final RetryPolicy policy = new RetryPolicy(5, Duration.ofMillis(100), Duration.ofSeconds(1), Duration.ofSeconds(10));

    @Test
    void backoffDoublesUpToItsCapWithAtMostHalfOfItJitter() {
        assertThat(policy.backoff(0)).isEqualTo(Duration.ofMillis(100));
        assertThat(policy.backoff(1)).isEqualTo(Duration.ofMillis(200));
        assertThat(policy.backoff(3)).isEqualTo(Duration.ofMillis(800));
        assertThat(policy.backoff(4)).isEqualTo(Duration.ofSeconds(1));
        assertThat(policy.backoff(200)).isEqualTo(Duration.ofSeconds(1));
        for (int i = 0; i < 100; i++) {
            assertThat(Http.waitBefore(policy, new ConnectException(), 2)).isBetween(Duration.ofMillis(200), Duration.ofMillis(400));
        }
    }

    @Test
    void a429sOwnWaitIsTakenExactlyUnlessItIsLongerThanThePolicyWaits() {
        SwitchboardException limited = new SwitchboardException(429, "rate_limited", "Rate limited", "", Duration.ofMillis(1500));
        assertThat(Http.waitBefore(policy, limited, 0)).isEqualTo(Duration.ofMillis(1500));
        SwitchboardException tooLong = new SwitchboardException(429, "slow_down", "Slow down", "", Duration.ofSeconds(11));
        assertThat(Http.waitBefore(policy, tooLong, 0)).isNull();
        SwitchboardException unavailable = new SwitchboardException(503, "unavailable", "Unavailable", "", null);
        assertThat(Http.waitBefore(policy, unavailable, 0)).isBetween(Duration.ofMillis(50), Duration.ofMillis(100));
    }

    @Test
    void connectionErrorsTimeouts5xxAnd429AreTransientOther4xxAreNot() {
        assertThat(Http.isTransient(new ConnectException("refused"))).isTrue();
        assertThat(Http.isTransient(new AbortedException("Connection has been closed BEFORE send operation"))).isTrue();
        assertThat(Http.isTransient(new TimeoutException())).isTrue();
        assertThat(Http.isTransient(new RuntimeException(new ConnectException()))).isTrue();
        assertThat(Http.isTransient(new SwitchboardException(500, "internal", null, null, null))).isTrue();
        assertThat(Http.isTransient(new SwitchboardException(503, "unavailable", null, null, null))).isTrue();
        assertThat(Http.isTransient(new SwitchboardException(429, "slow_down", null, null, null))).isTrue();
        assertThat(Http.isTransient(new SwitchboardException(400, "invalid_request", null, null, null))).isFalse();
        assertThat(Http.isTransient(new SwitchboardException(409, "conflict", null, null, null))).isFalse();
        assertThat(Http.isTransient(new IllegalArgumentException())).isFalse();
    }

    @Test
    void nackDelaysDoubleWithTheAttemptAndReasonsAreCutTo512() {
        ConsumerOptions options = ConsumerOptions.defaults().withNackDelay(Duration.ofMillis(250), Duration.ofSeconds(2));
        assertThat(options.nackDelayAfter(1)).isEqualTo(Duration.ofMillis(250));
        assertThat(options.nackDelayAfter(2)).isEqualTo(Duration.ofMillis(500));
        assertThat(options.nackDelayAfter(4)).isEqualTo(Duration.ofSeconds(2));
        assertThat(options.nackDelayAfter(60)).isEqualTo(Duration.ofSeconds(2));
        assertThat(SwitchboardConsumer.reason(new IllegalStateException("x".repeat(600)))).hasSize(512);
        assertThat(SwitchboardConsumer.reason(new IllegalStateException("short"))).isEqualTo("short");
        assertThat(SwitchboardConsumer.reason(new NullPointerException())).isEqualTo("NullPointerException");
        assertThat(SwitchboardConsumer.reason(new IllegalStateException("é".repeat(511) + "\uD83D\uDE00"))).hasSize(511);
    }
}
