package dev.switchboard.registryclient;

import jakarta.validation.Validation;
import jakarta.validation.Validator;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RegistryClientPropertiesTests {

    @Test
    void unsetFieldsTakeTheDocumentedDefaults() {
        RegistryClientProperties properties = RegistryClientProperties.of("http://localhost:8081", "token");

        assertThat(properties.requestTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(properties.retries()).isEqualTo(2);
        assertThat(properties.retryBackoff()).isEqualTo(Duration.ofMillis(50));
        assertThat(properties.negativeTtl()).isEqualTo(Duration.ofSeconds(1));
        assertThat(properties.maxAge()).isEqualTo(Duration.ofMinutes(5));
        assertThat(properties.degradedMaxAge()).isEqualTo(Duration.ofSeconds(1));
        assertThat(properties.maxEntries()).isEqualTo(100_000);
        assertThat(properties.feedHeartbeat()).isEqualTo(Duration.ofSeconds(5));
        assertThat(properties.feedLivenessTimeout()).isEqualTo(Duration.ofSeconds(15));
        assertThat(properties.feedReconnectBackoff()).isEqualTo(Duration.ofMillis(100));
        assertThat(properties.feedReconnectMaxBackoff()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void bindsKebabCaseNamesAndBothDurationStyles() {
        MapConfigurationPropertySource source = new MapConfigurationPropertySource(Map.of(
                "switchboard.registry-client.base-url", "http://registry:8081",
                "switchboard.registry-client.service-token", "s3cret",
                "switchboard.registry-client.request-timeout", "500ms",
                "switchboard.registry-client.negative-ttl", "PT2S",
                "switchboard.registry-client.retries", "0",
                "switchboard.registry-client.max-entries", "10",
                "switchboard.registry-client.feed-liveness-timeout", "20s"));

        RegistryClientProperties properties = new Binder(source)
                .bind("switchboard.registry-client", RegistryClientProperties.class).get();

        assertThat(properties.baseUrl()).isEqualTo("http://registry:8081");
        assertThat(properties.serviceToken()).isEqualTo("s3cret");
        assertThat(properties.requestTimeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(properties.negativeTtl()).isEqualTo(Duration.ofSeconds(2));
        assertThat(properties.retries()).isZero();
        assertThat(properties.maxEntries()).isEqualTo(10);
        assertThat(properties.feedLivenessTimeout()).isEqualTo(Duration.ofSeconds(20));
        assertThat(properties.maxAge()).isEqualTo(RegistryClientProperties.DEFAULT_MAX_AGE);
    }

    @Test
    void aLivenessTimeoutNotLongerThanTheHeartbeatIsRejected() {
        assertThatThrownBy(() -> new RegistryClientProperties("http://r", "t", null, null, null, null, null, null, null,
                Duration.ofSeconds(5), Duration.ofSeconds(5), null, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("feed-liveness-timeout");
    }

    @Test
    void aNonPositiveDurationIsRejected() {
        assertThatThrownBy(() -> new RegistryClientProperties("http://r", "t", Duration.ZERO, null, null, null, null, null, null,
                null, null, null, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("request-timeout");
        assertThatThrownBy(() -> new RegistryClientProperties("http://r", "t", null, null, null, Duration.ofSeconds(-1), null, null,
                null, null, null, null, null))
                .hasMessageContaining("negative-ttl");
    }

    @Test
    void theBaseUrlAndTheServiceTokenAreRequired() {
        try (var factory = Validation.buildDefaultValidatorFactory()) {
            Validator validator = factory.getValidator();

            assertThat(validator.validate(RegistryClientProperties.of("http://r", "t"))).isEmpty();
            assertThat(validator.validate(RegistryClientProperties.of(" ", "")))
                    .extracting(violation -> violation.getPropertyPath().toString())
                    .containsExactlyInAnyOrder("baseUrl", "serviceToken");
        }
    }
}
