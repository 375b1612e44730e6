package dev.switchboard.registry.topic;

import dev.switchboard.contracts.registry.LagPolicy;
import dev.switchboard.contracts.registry.TopicSettings;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.registry.api.JsonBody;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TopicRulesTests {

    @Test
    void emptyBodyIsTheProtocolsDefaults() {
        assertThat(TopicRules.parse(JsonBody.of(Map.of()))).isEqualTo(TopicSettings.defaults());
    }

    @Test
    void nullsTakeDefaultsToo() {
        Map<String, Object> body = new HashMap<>();
        body.put("partitions", null);
        body.put("defaultTtl", null);
        body.put("publishRate", null);
        assertThat(TopicRules.parse(JsonBody.of(body))).isEqualTo(TopicSettings.defaults());
    }

    @Test
    void everyFieldIsRead() {
        TopicSettings s = TopicRules.parse(JsonBody.of(Map.of(
                "partitions", 8, "retention", "P30D", "dedupWindow", "PT0S", "defaultTtl", "PT1S",
                "maxPayloadBytes", 1_048_576, "schemaVersions", Map.of("min", 2, "max", 1_000_000),
                "maxLag", 10_000_000_000L, "lagPolicy", "none", "maxAttempts", 100,
                "publishRate", Map.of("perSecond", 1_000_000, "burst", 10_000_000))));
        assertThat(s).isEqualTo(new TopicSettings(8, Duration.ofDays(30), Duration.ZERO, Duration.ofSeconds(1), 1_048_576,
                new TopicSettings.SchemaVersions(2, 1_000_000), 10_000_000_000L, LagPolicy.NONE, 100,
                new TopicSettings.PublishRate(1_000_000, 10_000_000)));
    }

    @Test
    void boundsAreInclusive() {
        assertThat(TopicRules.parse(JsonBody.of(Map.of("retention", "PT1M", "dedupWindow", "PT1M", "defaultTtl", "PT1M")))
                .retention()).isEqualTo(Duration.ofMinutes(1));
        assertThat(TopicRules.parse(JsonBody.of(Map.of("retention", "P3650D"))).retention()).isEqualTo(Duration.ofDays(3650));
        assertThatThrownBy(() -> TopicRules.parse(JsonBody.of(Map.of("retention", "PT59S"))))
                .isInstanceOf(SwitchboardException.class)
                .hasMessageContaining("retention must be between PT1M and P3650D");
    }
}
