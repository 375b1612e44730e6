package dev.switchboard.delivery;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.names.TopicPattern;
import dev.switchboard.contracts.registry.ClientSecrets;
import dev.switchboard.contracts.registry.KeyPrincipal;
import dev.switchboard.contracts.registry.RegistryChange;
import dev.switchboard.contracts.registry.ResolvedTopic;
import dev.switchboard.contracts.registry.TenantQuotas;
import dev.switchboard.contracts.registry.TopicSettings;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.registryclient.RegistryClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Topic settings for delivery tests that exercise the log itself; the registry's own behaviour is
 * covered against the real registry-service in its module and end to end.
 */
public class InMemoryRegistry implements RegistryClient {

    private final Map<String, Map<TopicPattern, TopicSettings>> topics = new ConcurrentHashMap<>();
    private final Map<String, TenantQuotas> quotas = new ConcurrentHashMap<>();
    /** Tests of the log itself are not about limits: tenants not set otherwise may publish 100k events/s. */
    static final TenantQuotas UNTHROTTLED = new TenantQuotas(100_000, 100_000, 10_000, 100, 65_536);

    public void quotas(String tenant, TenantQuotas q) {
        quotas.put(tenant, q);
    }

    public void declare(String tenant, String nameOrPattern, TopicSettings settings) {
        topics.computeIfAbsent(tenant, t -> new ConcurrentHashMap<>()).put(TopicPattern.of(nameOrPattern), settings);
    }

    @Override
    public Mono<ResolvedTopic> resolveTopic(String tenant, String topic) {
        // The dead-letter rule as the real client applies it.
        return RegistryClient.withDeadLetterTopics(tenant, topic, (t, name) -> {
            Map<TopicPattern, TopicSettings> declared = topics.getOrDefault(t, Map.of());
            return TopicPattern.mostSpecificMatch(declared.keySet(), name)
                    .map(p -> Mono.just(new ResolvedTopic(t, name, p.text(), declared.get(p))))
                    .orElseGet(() -> Mono.error(new SwitchboardException(ErrorCode.TOPIC_NOT_FOUND, "No topic " + name + ".")));
        });
    }

    @Override
    public Mono<TenantQuotas> quotas(String tenant) {
        return Mono.just(quotas.getOrDefault(tenant, UNTHROTTLED));
    }

    @Override
    public Mono<KeyPrincipal> resolveKey(String apiKey) {
        return Mono.error(new SwitchboardException(ErrorCode.UNAUTHENTICATED, "no keys here"));
    }

    @Override
    public Mono<ClientSecrets> clientSecrets(String tenant) {
        return Mono.error(new SwitchboardException(ErrorCode.NOT_FOUND, "no secrets here"));
    }

    @Override
    public Flux<RegistryChange> changes() {
        return Flux.never();
    }

    @Override
    public Mono<Map<String, Integer>> reportConnections(String gateway, Map<String, Integer> counts,
                                                        Map<String, java.util.List<String>> watched, java.time.Duration ttl) {
        return Mono.just(Map.of());
    }

    /** One delivery instance: tests that share a quota across instances run the real registry. */
    @Override
    public Mono<Integer> reportDeliveryInstance(String instance, java.time.Duration ttl) {
        return Mono.just(1);
    }

    @Override
    public Mono<Void> leaveDeliveryInstance(String instance) {
        return Mono.empty();
    }
}
