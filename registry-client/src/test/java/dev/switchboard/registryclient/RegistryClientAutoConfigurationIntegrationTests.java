package dev.switchboard.registryclient;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.webclient.autoconfigure.WebClientAutoConfiguration;
import reactor.test.StepVerifier;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The auto-configured client against the stub: the feed follows the application's lifecycle. */
class RegistryClientAutoConfigurationIntegrationTests {

    private static RegistryStub stub;

    @BeforeAll
    static void startStub() {
        stub = new RegistryStub();
    }

    @AfterAll
    static void stopStub() {
        stub.close();
    }

    @Test
    void theClientOpensTheFeedWithTheContextAndClosesItWithIt() {
        stub.reset();
        stub.quotas("acme", 42);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(WebClientAutoConfiguration.class, RegistryClientAutoConfiguration.class))
                .withBean(MeterRegistry.class, () -> meters)
                .withPropertyValues("switchboard.registry-client.base-url=" + stub.baseUrl(),
                        "switchboard.registry-client.service-token=" + RegistryStub.TOKEN,
                        "switchboard.registry-client.request-timeout=1s")
                .run(context -> {
                    CachingRegistryClient client = context.getBean(CachingRegistryClient.class);
                    assertThat(context.getBean(RegistryClientProperties.class).requestTimeout()).isEqualTo(Duration.ofSeconds(1));
                    assertThat(client.isRunning()).isTrue();
                    await().atMost(Duration.ofSeconds(3)).until(client::feedHealthy);
                    assertThat(stub.openFeeds()).isEqualTo(1);

                    StepVerifier.create(context.getBean(RegistryClient.class).quotas("acme"))
                            .assertNext(quotas -> assertThat(quotas.publishPerSecond()).isEqualTo(42))
                            .verifyComplete();
                    assertThat(meters.find(RegistryHttp.REQUESTS_METRIC).timers()).isNotEmpty();
                    assertThat(meters.find("cache.gets").tag("cache", RegistryCache.CACHE_NAME).meters()).isNotEmpty();
                });
        await().atMost(Duration.ofSeconds(2)).until(() -> stub.openFeeds() == 0);
    }
}
