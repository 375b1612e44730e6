package dev.switchboard.client;

import dev.switchboard.client.spring.SwitchboardClientAutoConfiguration;
import dev.switchboard.client.spring.SwitchboardClientProperties;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class SwitchboardClientAutoConfigurationTests {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(SwitchboardClientAutoConfiguration.class));

    @Test
    void noBaseUrlNoClient() {
        runner.run(context -> assertThat(context).doesNotHaveBean(SwitchboardClient.class));
    }

    @Test
    void aClientFromTheProperties() {
        runner.withPropertyValues("switchboard.client.base-url=http://127.0.0.1:8080", "switchboard.client.api-key=sb_x",
                        "switchboard.client.request-timeout=3s", "switchboard.client.max-attempts=2")
                .run(context -> {
                    assertThat(context).hasSingleBean(SwitchboardClient.class);
                    SwitchboardClientProperties properties = context.getBean(SwitchboardClientProperties.class);
                    assertThat(properties.requestTimeout()).isEqualTo(Duration.ofSeconds(3));
                    assertThat(properties.maxAttempts()).isEqualTo(2);
                    assertThat(properties.callTimeout()).isEqualTo(SwitchboardClient.DEFAULT_CALL_TIMEOUT);
                    assertThat(context.getBean(SwitchboardClient.class).retryPolicy().maxAttempts()).isEqualTo(2);
                });
    }

    @Test
    void theApplicationsOwnClientWins() {
        runner.withPropertyValues("switchboard.client.base-url=http://127.0.0.1:8080")
                .withBean("mine", SwitchboardClient.class, () -> SwitchboardClient.builder("http://127.0.0.1:9").build())
                .run(context -> assertThat(context).hasSingleBean(SwitchboardClient.class).hasBean("mine"));
    }

    @Test
    void registeredAsAnAutoConfiguration() throws Exception {
        try (var in = getClass().getResourceAsStream(
                "/META-INF/spring/org.springframework.boot.autoconfigure.AutoConfiguration.imports")) {
            assertThat(new String(in.readAllBytes())).contains(SwitchboardClientAutoConfiguration.class.getName());
        }
    }
}
