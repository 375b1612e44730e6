package dev.switchboard.registry.client;

import dev.switchboard.contracts.registry.ClientSecrets;
import dev.switchboard.contracts.registry.KeyPrincipal;
import dev.switchboard.contracts.registry.RegistryChange;
import dev.switchboard.contracts.registry.ResolvedTopic;
import dev.switchboard.contracts.registry.TenantQuotas;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** PLACEHOLDER until the registry-client branch merges. */
public interface RegistryClient {
    Mono<KeyPrincipal> resolveKey(String apiKey);

    Mono<ResolvedTopic> resolveTopic(String tenant, String topic);

    Mono<ClientSecrets> clientSecrets(String tenant);

    Mono<TenantQuotas> quotas(String tenant);

    Flux<RegistryChange> changes();
}
