package dev.switchboard.registry.client;

import dev.switchboard.contracts.registry.ClientSecrets;
import dev.switchboard.contracts.registry.KeyPrincipal;
import dev.switchboard.contracts.registry.RegistryChange;
import dev.switchboard.contracts.registry.ResolvedTopic;
import dev.switchboard.contracts.registry.TenantQuotas;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * What the other services ask registry-service. Every failure is a
 * {@link dev.switchboard.platform.problem.SwitchboardException} carrying a code of the catalog:
 * {@code UNAUTHENTICATED} for an unknown or revoked API key, {@code TOPIC_NOT_FOUND} when no topic
 * or pattern matches, {@code NOT_FOUND} for an unknown tenant, {@code UNAVAILABLE} when the
 * registry cannot be reached in time or fails. Answers may come from a cache, but a change in the
 * registry is seen within one second.
 */
public interface RegistryClient {

    /** The principal of a tenant API key ({@code sb_…}); the key itself is never cached or logged. */
    Mono<KeyPrincipal> resolveKey(String apiKey);

    /** The effective settings of a concrete topic name: its own declaration or the most specific pattern. */
    Mono<ResolvedTopic> resolveTopic(String tenant, String topic);

    /** The secrets that may have signed the tenant's browser JWTs, current first. */
    Mono<ClientSecrets> clientSecrets(String tenant);

    /** The tenant's limits. */
    Mono<TenantQuotas> quotas(String tenant);

    /**
     * A hot view of the registry's change feed, shared by all subscribers, for callers that keep
     * state of their own (the gateway closing the sockets of a deleted tenant). Heartbeats are not
     * passed on. A change of kind {@code TENANT} with tenant {@link CachingRegistryClient#RESET_TENANT}
     * means "anything may have changed": drop everything derived from the registry. Each subscriber
     * has a bounded buffer; one that falls too far behind gets an error and should resubscribe after
     * dropping its state. Completes when the client is closed.
     */
    Flux<RegistryChange> changes();
}
