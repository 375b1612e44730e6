package dev.switchboard.registryclient;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.web.reactive.function.client.WebClient;

/**
 * A {@link RegistryClient} for every service that sets {@code switchboard.registry-client.base-url},
 * built on the application's {@link WebClient.Builder}, with its change feed tied to the
 * application's lifecycle.
 */
@AutoConfiguration(afterName = {
        "org.springframework.boot.webclient.autoconfigure.WebClientAutoConfiguration",
        "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration"})
@ConditionalOnProperty(prefix = "switchboard.registry-client", name = "base-url")
@EnableConfigurationProperties(RegistryClientProperties.class)
public class RegistryClientAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean(RegistryClient.class)
    CachingRegistryClient registryClient(ObjectProvider<WebClient.Builder> webClientBuilder,
                                         RegistryClientProperties properties,
                                         ObjectProvider<MeterRegistry> meters, Environment environment) {
        return new CachingRegistryClient(webClientBuilder.getIfAvailable(WebClient::builder), properties,
                meters.getIfAvailable(SimpleMeterRegistry::new), environment.getProperty("spring.application.name"));
    }

    @Bean
    @ConditionalOnMissingBean(RegistryClientLifecycle.class)
    RegistryClientLifecycle registryClientLifecycle(ObjectProvider<CachingRegistryClient> client) {
        return new RegistryClientLifecycle(client.getIfAvailable());
    }

    /**
     * Opens the feed before the web server takes traffic and closes it after the server has
     * stopped (a lower phase starts earlier and stops later than the web server's lifecycles).
     */
    static final class RegistryClientLifecycle implements SmartLifecycle {

        static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;

        private final CachingRegistryClient client;

        RegistryClientLifecycle(CachingRegistryClient client) {
            this.client = client;
        }

        @Override
        public void start() {
            if (client != null) {
                client.start();
            }
        }

        @Override
        public void stop() {
            if (client != null) {
                client.close();
            }
        }

        @Override
        public boolean isRunning() {
            return client != null && client.isRunning();
        }

        @Override
        public int getPhase() {
            return PHASE;
        }
    }
}
