package dev.switchboard.registry.internal;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.registry.AppliedReport;
import dev.switchboard.contracts.registry.ClientSecrets;
import dev.switchboard.contracts.registry.ConnectionReport;
import dev.switchboard.contracts.registry.InstanceReport;
import dev.switchboard.contracts.registry.InternalApi;
import dev.switchboard.contracts.registry.KeyPrincipal;
import dev.switchboard.contracts.registry.KeyResolveRequest;
import dev.switchboard.contracts.registry.RegistryChange;
import dev.switchboard.contracts.registry.ResolvedTopic;
import dev.switchboard.contracts.registry.TenantQuotas;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.registry.change.ChangeBarrier;
import dev.switchboard.registry.change.ChangeFeed;
import dev.switchboard.registry.key.KeyResolver;
import dev.switchboard.registry.presence.DeliveryInstances;
import dev.switchboard.registry.presence.GatewayConnections;
import dev.switchboard.registry.quota.QuotaService;
import dev.switchboard.registry.tenant.ClientSecretStore;
import dev.switchboard.registry.topic.TopicResolver;
import io.swagger.v3.oas.annotations.Hidden;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The internal API of {@link InternalApi} for the other services, behind the service token only.
 * Not in the OpenAPI document. Durations in its JSON are ISO-8601 strings.
 */
@Hidden
@RestController
class InternalController {

    static final String NDJSON = "application/x-ndjson";

    private final KeyResolver keys;
    private final TopicResolver topics;
    private final ClientSecretStore secrets;
    private final QuotaService quotas;
    private final ChangeFeed feed;
    private final GatewayConnections connections;
    private final DeliveryInstances instances;
    private final ChangeBarrier barrier;

    InternalController(KeyResolver keys, TopicResolver topics, ClientSecretStore secrets, QuotaService quotas,
                       ChangeFeed feed, GatewayConnections connections, DeliveryInstances instances, ChangeBarrier barrier) {
        this.barrier = barrier;
        this.connections = connections;
        this.instances = instances;
        this.keys = keys;
        this.topics = topics;
        this.secrets = secrets;
        this.quotas = quotas;
        this.feed = feed;
    }

    /** 401 unauthenticated for an unknown, revoked or malformed key, or one of a deleted tenant. */
    @PostMapping(path = InternalApi.RESOLVE_KEY, consumes = MediaType.APPLICATION_JSON_VALUE,
            produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<KeyPrincipal> resolveKey(@RequestBody(required = false) Mono<KeyResolveRequest> body) {
        return body.switchIfEmpty(Mono.error(() -> SwitchboardException.invalid("A body {\"key\":\"sb_…\"} is required.")))
                .flatMap(request -> keys.resolve(request.key()))
                .switchIfEmpty(Mono.error(() -> new SwitchboardException(ErrorCode.UNAUTHENTICATED, "Unknown or revoked API key.")));
    }

    /** 400 for an invalid name or a pattern; 404 topic_not_found when nothing declared matches. */
    @GetMapping(path = InternalApi.RESOLVE_TOPIC, produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<ResolvedTopic> resolveTopic(@PathVariable String tenant, @RequestParam(required = false) String name) {
        return topics.resolve(tenant, name);
    }

    @GetMapping(path = InternalApi.CLIENT_SECRETS, produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<ClientSecrets> clientSecrets(@PathVariable String tenant) {
        return secrets.secrets(tenant);
    }

    @GetMapping(path = InternalApi.QUOTAS, produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<TenantQuotas> quotas(@PathVariable String tenant) {
        return quotas.get(tenant);
    }

    /** A gateway's socket counts per tenant; answers the other live gateways'. */
    @PutMapping(path = InternalApi.GATEWAY_CONNECTIONS, consumes = MediaType.APPLICATION_JSON_VALUE,
            produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<ConnectionReport.ConnectionTotals> connections(@PathVariable String gateway,
                                                        @RequestBody(required = false) Mono<ConnectionReport> body) {
        return body.switchIfEmpty(Mono.error(() -> SwitchboardException.invalid("A body {\"ttlMs\":…,\"counts\":{…}} is required.")))
                .flatMap(report -> connections.report(gateway, report));
    }

    /** Which of some topics of a tenant a socket on a live gateway subscribes to (workflow runs with cancelWhenUnwatched ask). */
    @PostMapping(path = InternalApi.WATCHED_TOPICS, consumes = MediaType.APPLICATION_JSON_VALUE,
            produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<ConnectionReport.WatchedTopics> watched(@PathVariable String tenant,
                                                 @RequestBody(required = false) Mono<ConnectionReport.WatchedTopics> body) {
        return body.switchIfEmpty(Mono.error(() -> SwitchboardException.invalid("A body {\"topics\":[…]} is required.")))
                .flatMap(asked -> connections.watched(tenant, asked));
    }

    /** A delivery instance is alive for a while; answers how many are. */
    @PutMapping(path = InternalApi.DELIVERY_INSTANCE, consumes = MediaType.APPLICATION_JSON_VALUE,
            produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<InstanceReport.LiveInstances> deliveryInstance(@PathVariable String instance,
                                                        @RequestBody(required = false) Mono<InstanceReport> body) {
        return body.switchIfEmpty(Mono.error(() -> SwitchboardException.invalid("A body {\"ttlMs\":…} is required.")))
                .flatMap(report -> instances.report(instance, report));
    }

    /** A delivery instance that stops: it no longer shares the rates. {@code 204}, also when it was not there. */
    @DeleteMapping(path = InternalApi.DELIVERY_INSTANCE)
    @ResponseStatus(HttpStatus.NO_CONTENT)
    Mono<Void> deliveryInstanceLeaves(@PathVariable String instance) {
        return instances.leave(instance);
    }

    /** A change-feed subscriber has applied every change up to an id ({@link ChangeBarrier}). */
    @PutMapping(path = InternalApi.CHANGE_SUBSCRIBER, consumes = MediaType.APPLICATION_JSON_VALUE)
    @ResponseStatus(HttpStatus.NO_CONTENT)
    Mono<Void> applied(@PathVariable String subscriber, @RequestBody(required = false) Mono<AppliedReport> body) {
        return body.switchIfEmpty(Mono.error(() -> SwitchboardException.invalid("A body {\"appliedThrough\":…,\"ttlMs\":…} is required.")))
                .flatMap(report -> barrier.report(subscriber, report));
    }

    /** A change-feed subscriber that stops. {@code 204}, also when it was not there. */
    @DeleteMapping(path = InternalApi.CHANGE_SUBSCRIBER)
    @ResponseStatus(HttpStatus.NO_CONTENT)
    Mono<Void> subscriberLeaves(@PathVariable String subscriber) {
        return barrier.leave(subscriber);
    }

    /** NDJSON of {@link RegistryChange}; see {@link ChangeFeed} for the lines, heartbeats and the reset line. */
    @GetMapping(path = InternalApi.CHANGES, produces = NDJSON)
    Flux<RegistryChange> changes(@RequestParam(required = false) String after) {
        Long from;
        try {
            from = after == null ? null : Long.parseLong(after.trim());
        } catch (NumberFormatException e) {
            from = -1L;
        }
        if (from != null && from < 0) {
            return Flux.error(SwitchboardException.invalid("after must be a change id (an integer >= 0)."));
        }
        return feed.changes(from);
    }
}
