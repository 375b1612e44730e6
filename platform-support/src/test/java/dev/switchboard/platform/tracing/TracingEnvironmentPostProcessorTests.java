package dev.switchboard.platform.tracing;

import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.mock.env.MockEnvironment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TracingEnvironmentPostProcessorTests {

    private static MockEnvironment processed(MockEnvironment environment) {
        new TracingEnvironmentPostProcessor().postProcessEnvironment(environment, new SpringApplication());
        return environment;
    }

    @Test
    void withoutAnEndpointThereIsNoTracingAtAll() {
        MockEnvironment off = processed(new MockEnvironment());
        assertThat(off.getProperty("management.tracing.enabled")).isEqualTo("false");
        assertThat(off.getProperty("logging.pattern.correlation")).as("no empty [trace,span] field in text lines").isEmpty();
        assertThat(processed(new MockEnvironment().withProperty("switchboard.tracing.otlp-endpoint", "off"))
                .getProperty("management.tracing.enabled")).isEqualTo("false");
    }

    @Test
    void anEndpointTurnsTracingOnAndExportsThere() {
        MockEnvironment env = processed(new MockEnvironment()
                .withProperty("switchboard.tracing.otlp-endpoint", "http://collector:4318/v1/traces")
                .withProperty("switchboard.tracing.sampling", "0.25"));
        assertThat(env.getProperty("management.tracing.enabled")).isEqualTo("true");
        assertThat(env.getProperty("management.opentelemetry.tracing.export.otlp.endpoint")).isEqualTo("http://collector:4318/v1/traces");
        assertThat(env.getProperty("management.tracing.sampling.probability")).isEqualTo("0.25");
    }

    @Test
    void explicitManagementSettingsWin() {
        MockEnvironment env = processed(new MockEnvironment()
                .withProperty("switchboard.tracing.otlp-endpoint", "http://collector:4318/v1/traces")
                .withProperty("management.tracing.sampling.probability", "0.5"));
        assertThat(env.getProperty("management.tracing.sampling.probability")).isEqualTo("0.5");
    }

    @Test
    void aBadEndpointOrSharingIsRefusedNamingTheVariable() {
        assertThatThrownBy(() -> processed(new MockEnvironment().withProperty("switchboard.tracing.otlp-endpoint", "collector:4318")))
                .hasMessageContaining("SWITCHBOARD_OTLP_ENDPOINT");
        assertThatThrownBy(() -> processed(new MockEnvironment().withProperty("switchboard.tracing.otlp-endpoint", "http://c:4318/v1/traces")
                .withProperty("switchboard.tracing.sampling", "2"))).hasMessageContaining("SWITCHBOARD_TRACE_SAMPLING");
    }
}
