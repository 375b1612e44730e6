package dev.switchboard.registry.api;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class DurationsTests {

    @Test
    void wholeDaysAreWrittenInDaysTheRestInTime() {
        assertThat(Durations.format(Duration.ofDays(7))).isEqualTo("P7D");
        assertThat(Durations.format(Duration.ofHours(24))).isEqualTo("P1D");
        assertThat(Durations.format(Duration.ofHours(36))).isEqualTo("PT36H");
        assertThat(Durations.format(Duration.ofMinutes(90))).isEqualTo("PT1H30M");
        assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("PT1.5S");
        assertThat(Durations.format(Duration.ZERO)).isEqualTo("PT0S");
        assertThat(Durations.format(null)).isNull();
        for (String text : new String[] {"P7D", "PT36H", "PT1.5S", "PT0S", "P3650D"}) {
            assertThat(Durations.format(Duration.parse(text))).isEqualTo(text);
        }
    }
}
