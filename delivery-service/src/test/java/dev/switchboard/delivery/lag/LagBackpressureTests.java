package dev.switchboard.delivery.lag;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class LagBackpressureTests {

    @Test
    void theThrottleDelayIsOneSecondJustOverTheLimitAndGrowsLinearlyToThirtyAtTwiceTheLimit() {
        assertThat(LagBackpressure.throttleDelay(100_000, 100_000)).isEqualTo(Duration.ofSeconds(1));
        assertThat(LagBackpressure.throttleDelay(100_001, 100_000).toMillis()).isBetween(1000L, 1001L);
        assertThat(LagBackpressure.throttleDelay(150_000, 100_000)).isEqualTo(Duration.ofMillis(15_500));
        assertThat(LagBackpressure.throttleDelay(200_000, 100_000)).isEqualTo(Duration.ofSeconds(30));
        assertThat(LagBackpressure.throttleDelay(10_000_000, 100_000)).isEqualTo(Duration.ofSeconds(30));
        assertThat(LagBackpressure.throttleDelay(6, 5)).isEqualTo(Duration.ofMillis(6800));
        assertThat(LagBackpressure.throttleDelay(8, 5)).isEqualTo(Duration.ofMillis(18_400));
    }

    @Test
    void theDelayNeverShrinksAsTheLagGrows() {
        Duration previous = Duration.ZERO;
        for (long lag = 1; lag <= 40; lag++) {
            Duration delay = LagBackpressure.throttleDelay(lag, 7);
            assertThat(delay).isGreaterThanOrEqualTo(previous).isBetween(Duration.ofSeconds(1), Duration.ofSeconds(30));
            previous = delay;
        }
        // A limit of 0 (not allowed by the registry) does not divide by zero.
        assertThat(LagBackpressure.throttleDelay(3, 0)).isEqualTo(Duration.ofSeconds(30));
    }
}
