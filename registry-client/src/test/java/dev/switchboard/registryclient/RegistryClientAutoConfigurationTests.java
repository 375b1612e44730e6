package dev.switchboard.registryclient;

import dev.switchboard.contracts.registry.ClientSecrets;
import dev.switchboard.contracts.registry.KeyPrincipal;
import dev.switchboard.contracts.registry.RegistryChange;
import dev.switchboard.contracts.registry.ResolvedTopic;
import dev.switchboard.contracts.registry.TenantQuotas;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.webclient.autoconfigure.WebClientAutoConfiguration;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import static org.assertj.core.api.Assertions.assertThat;

/** When the client exists; none of these contexts opens a socket. */
class RegistryClientAutoConfigurationTests {

    private final ApplicationContextRunner contexts = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(WebClientAutoConfiguration.class, RegistryClientAutoConfiguration.class));

    @Test
    void withoutABaseUrlThereIsNoClient() {
        contexts.run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean(RegistryClient.class);
            assertThat(context).doesNotHaveBean(RegistryClientProperties.class);
        });
    }

    @Test
    void aBaseUrlWithoutAServiceTokenFailsAtStartUp() {
        contexts.withPropertyValues("switchboard.registry-client.base-url=http://127.0.0.1:9")
                .run(context -> assertThat(context).hasFailed()
                        .getFailure().rootCause().hasMessageContaining("serviceToken"));
    }

    @Test
    void anApplicationsOwnClientWins() {
        RegistryClient own = new RegistryClient() {
            @Override
            public Mono<KeyPrincipal> resolveKey(String apiKey) {
                return Mono.empty();
            }

            @Override
            public Mono<ResolvedTopic> resolveTopic(String tenant, String topic) {
                return Mono.empty();
            }

            @Override
            public Mono<ClientSecrets> clientSecrets(String tenant) {
                return Mono.empty();
            }

            @Override
            public Mono<TenantQuotas> quotas(String tenant) {
                return Mono.empty();
            }

            @Override
            public Flux<RegistryChange> changes() {
                return Flux.empty();
            }

            @Override
            public Mono<java.util.Map<String, Integer>> reportConnections(String gateway, java.util.Map<String, Integer> counts,
                                                                          java.util.Map<String, java.util.List<String>> watched,
                                                                          java.time.Duration ttl) {
                return Mono.empty();
            }

            @Override
            public Mono<Integer> reportDeliveryInstance(String instance, java.time.Duration ttl) {
                return Mono.empty();
            }

            @Override
            public Mono<Void> leaveDeliveryInstance(String instance) {
                return Mono.empty();
            }
        };
        contexts.withPropertyValues("switchboard.registry-client.base-url=http://127.0.0.1:9",
                        "switchboard.registry-client.service-token=t")
                .withBean(RegistryClient.class, () -> own)
                .run(context -> {
                    assertThat(context).getBean(RegistryClient.class).isSameAs(own);
                    assertThat(context).doesNotHaveBean(CachingRegistryClient.class);
                    assertThat(context.getBean(RegistryClientAutoConfiguration.RegistryClientLifecycle.class).isRunning()).isFalse();
                });
    }
}
