package dev.switchboard.registry.topic;

import dev.switchboard.contracts.names.TopicNames;
import dev.switchboard.contracts.registry.RegistryChange;
import dev.switchboard.contracts.registry.TopicSettings;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.registry.api.JsonBody;
import dev.switchboard.registry.api.Page;
import dev.switchboard.registry.api.PageRequest;
import dev.switchboard.registry.api.Problems;
import dev.switchboard.registry.change.ChangeLog;
import dev.switchboard.registry.config.RegistryProperties;
import dev.switchboard.registry.tenant.TenantDirectory;
import org.springframework.stereotype.Service;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;

/** A tenant's topic and pattern declarations. */
@Service
class TopicService {

    private final TopicRepository topics;
    private final TopicResolver resolver;
    private final TenantDirectory tenants;
    private final ChangeLog changes;
    private final TransactionalOperator tx;
    private final int maxPageSize;

    TopicService(TopicRepository topics, TopicResolver resolver, TenantDirectory tenants, ChangeLog changes,
                 TransactionalOperator tx, RegistryProperties properties) {
        this.topics = topics;
        this.resolver = resolver;
        this.tenants = tenants;
        this.changes = changes;
        this.tx = tx;
        this.maxPageSize = properties.maxPageSize();
    }

    /** The outcome of a PUT: the declaration and whether it is new (201) or replaced one (200). */
    record Put(TopicResponse topic, boolean created) {
    }

    /** Declares or replaces; the whole declaration is replaced, with defaults for what is absent. */
    Mono<Put> put(String tenant, String name, JsonBody body) {
        requireValidName(name);
        TopicSettings settings = TopicRules.parse(body);
        Mono<Put> work = tenants.lockLive(tenant)
                .then(topics.upsert(tenant, name, TopicShape.of(name), settings))
                .switchIfEmpty(Mono.defer(() -> topics.partitions(tenant, name)
                        .flatMap(current -> Mono.error(SwitchboardException.conflict("partitions can only grow: '" + name
                                + "' has " + current + ", the request asks for " + settings.partitions() + ".")))))
                .flatMap(upserted -> changes.record(tenant, RegistryChange.Kind.TOPIC, name)
                        .thenReturn(new Put(TopicResponse.of(upserted.row()), upserted.created())));
        return tx.transactional(work);
    }

    Mono<Page<TopicResponse>> list(String tenant, String limit, String cursor) {
        return tenants.requireLive(tenant)
                .then(Mono.fromCallable(() -> PageRequest.parse(limit, cursor, maxPageSize, TopicNames::isValidPattern)))
                .flatMap(page -> topics.page(tenant, page.after(), page.fetch()).collectList()
                        .map(rows -> page.page(rows, TopicRow::name, TopicResponse::of)));
    }

    /**
     * The exact declaration of {@code name} if there is one; else, for a concrete name, the
     * effective settings from the most specific matching pattern ({@code declaredBy}).
     */
    Mono<TopicResponse> get(String tenant, String name) {
        return Mono.fromRunnable(() -> requireValidName(name))
                .then(tenants.requireLive(tenant))
                .then(topics.find(tenant, name).map(TopicResponse::of)
                        .switchIfEmpty(Mono.defer(() -> TopicNames.isWildcard(name)
                                ? Mono.empty()
                                : resolver.winner(tenant, name).map(row -> TopicResponse.effective(name, row))))
                        .switchIfEmpty(Mono.error(() -> TopicResolver.notFound(name))));
    }

    Mono<Void> delete(String tenant, String name) {
        requireValidName(name);
        Mono<Void> work = tenants.lockLive(tenant)
                .then(topics.delete(tenant, name))
                .flatMap(deleted -> deleted
                        ? changes.record(tenant, RegistryChange.Kind.TOPIC, name)
                        : Mono.error(TopicResolver.notFound(name)))
                .then();
        return tx.transactional(work);
    }

    private static void requireValidName(String name) {
        if (!TopicNames.isValidPattern(name)) {
            throw SwitchboardException.invalid("'" + Problems.shorten(name) + "' is not a topic name or pattern: segments "
                    + "[a-z0-9][a-z0-9_-]* joined by single dots, '*' for exactly one segment, a last '>' for one or more, "
                    + "at most " + TopicNames.MAX_TOPIC_LENGTH + " characters.");
        }
    }
}
