package dev.switchboard.registryclient;

import dev.switchboard.contracts.registry.ConnectionReport;
import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.registry.ClientSecrets;
import dev.switchboard.contracts.registry.KeyPrincipal;
import dev.switchboard.contracts.registry.RegistryChange;
import dev.switchboard.contracts.registry.ResolvedTopic;
import dev.switchboard.contracts.registry.TenantQuotas;
import dev.switchboard.platform.problem.SwitchboardException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * What the other services ask registry-service. Every failure is a
 * {@link dev.switchboard.platform.problem.SwitchboardException} carrying a code of the catalog:
 * {@code UNAUTHENTICATED} for an unknown or revoked API key, {@code TOPIC_NOT_FOUND} when no topic
 * or pattern matches, {@code NOT_FOUND} for an unknown tenant, {@code INVALID_REQUEST} for a name
 * the registry rejects, {@code UNAVAILABLE} when the registry cannot be reached in time, fails, or
 * rejects this service's token. Answers may come from a cache, but a change in the registry is seen
 * within one second.
 */
public interface RegistryClient {

    /** The principal of a tenant API key ({@code sb_…}); the key itself is never cached or logged. */
    Mono<KeyPrincipal> resolveKey(String apiKey);

    /**
     * The effective settings of a concrete topic name: its own declaration or the most specific
     * pattern; for a dead-letter topic {@code {topic}.dlq} that nothing declares, its parent's
     * settings whenever the parent resolves (see {@link #DLQ_SUFFIX}).
     */
    Mono<ResolvedTopic> resolveTopic(String tenant, String topic);

    /**
     * The suffix of a dead-letter topic. Consumer groups move an event to {@code {topic}.dlq}
     * after the topic's {@code maxAttempts}, so that topic exists wherever its parent does, with
     * the parent's settings; a declaration that matches the {@code .dlq} name itself wins. Every
     * service asks through this client, so publish, reads, streams, groups and WebSocket
     * subscriptions all agree.
     */
    String DLQ_SUFFIX = ".dlq";

    /**
     * {@code lookup}'s answer for {@code topic}; for a {@code {topic}.dlq} it does not know, the
     * parent's settings under the dead-letter topic's own name (the parent's own error when
     * neither resolves).
     */
    static Mono<ResolvedTopic> withDeadLetterTopics(String tenant, String topic,
                                                    BiFunction<String, String, Mono<ResolvedTopic>> lookup) {
        Mono<ResolvedTopic> own = lookup.apply(tenant, topic);
        if (!topic.endsWith(DLQ_SUFFIX) || topic.length() == DLQ_SUFFIX.length()) {
            return own;
        }
        String parent = topic.substring(0, topic.length() - DLQ_SUFFIX.length());
        return own.onErrorResume(RegistryClient::topicNotFound,
                notFound -> withDeadLetterTopics(tenant, parent, lookup)
                        .map(p -> new ResolvedTopic(tenant, topic, p.declaredBy(), p.settings()))
                        .onErrorMap(RegistryClient::topicNotFound, parentNotFound -> notFound));
    }

    private static boolean topicNotFound(Throwable e) {
        return e instanceof SwitchboardException s && s.code() == ErrorCode.TOPIC_NOT_FOUND;
    }

    /** The secrets that may have signed the tenant's browser JWTs, current first. */
    Mono<ClientSecrets> clientSecrets(String tenant);

    /** The tenant's limits. */
    Mono<TenantQuotas> quotas(String tenant);

    /**
     * The principal of {@code apiKey} if this client has it cached and may serve it now; never asks
     * the registry. For decisions that must not wait (refusals at the edge); empty means "ask".
     */
    default Optional<KeyPrincipal> cachedKey(String apiKey) {
        return Optional.empty();
    }

    /** The tenant's quotas if cached and servable now; never asks the registry. */
    default Optional<TenantQuotas> cachedQuotas(String tenant) {
        return Optional.empty();
    }

    /**
     * A hot view of the registry's change feed, shared by all subscribers, for callers that keep
     * state of their own (the gateway closing the sockets of a deleted tenant). Each change is
     * passed on after this client's own cache has dropped what it affects, so a lookup made in
     * reaction sees the new state. Heartbeats are not passed on. A {@code TENANT} change means the
     * tenant changed in any way (look it up again to tell a deletion); one with tenant
     * {@link CachingRegistryClient#RESET_TENANT} means "anything may have changed": drop everything
     * derived from the registry. One is emitted whenever the feed (re)opens, since changes may have
     * been missed in between. Each subscriber has a bounded buffer; one that falls too far behind
     * gets an error and should drop its state and resubscribe. Signals arrive on the feed's I/O
     * thread: {@code publishOn} before slow work. Completes when the client is closed.
     */
    Flux<RegistryChange> changes();

    /**
     * Reports this gateway's open sockets per tenant (replacing its previous report, counting for
     * {@code ttl}); answers, per tenant, the sockets the other live gateways reported. Never cached,
     * and not retried beyond the client's usual bounded retries: the caller reports again soon.
     */
    default Mono<Map<String, Integer>> reportConnections(String gateway, Map<String, Integer> counts, Duration ttl) {
        return reportConnections(gateway, counts, Map.of(), ttl);
    }

    /**
     * The same, with the topics this gateway's sockets subscribe to, per tenant (at most
     * {@link ConnectionReport#MAX_WATCHED_PER_TENANT} each, or {@code ["*"]}).
     */
    Mono<Map<String, Integer>> reportConnections(String gateway, Map<String, Integer> counts,
                                                 Map<String, java.util.List<String>> watched, Duration ttl);

    /**
     * Reports this delivery instance alive for {@code ttl}; answers how many delivery instances are
     * alive, this one included. Never cached; the caller reports again soon.
     */
    Mono<Integer> reportDeliveryInstance(String instance, Duration ttl);

    /** A delivery instance that stops: the others take its share of the rates at their next report, not after its TTL. */
    Mono<Void> leaveDeliveryInstance(String instance);
}
