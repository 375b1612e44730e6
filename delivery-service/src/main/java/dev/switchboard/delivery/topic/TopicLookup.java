package dev.switchboard.delivery.topic;

import dev.switchboard.contracts.registry.ResolvedTopic;
import dev.switchboard.registryclient.RegistryClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * The topics delivery-service accepts: whatever the registry resolves (an exact declaration or the
 * most specific pattern), and the dead-letter topic {@code {topic}.dlq} of every such topic, with its
 * parent's settings ({@link RegistryClient#DLQ_SUFFIX}: the rule lives in the registry client, so the
 * gateway's WebSocket subscriptions agree). Every publish, read, stream and group operation asks here.
 */
@Component
public class TopicLookup {

    /** The suffix of a dead-letter topic. */
    public static final String DLQ_SUFFIX = RegistryClient.DLQ_SUFFIX;

    private final RegistryClient registry;

    TopicLookup(RegistryClient registry) {
        this.registry = registry;
    }

    /** The dead-letter topic of {@code topic}. */
    public static String deadLetterTopic(String topic) {
        return topic + DLQ_SUFFIX;
    }

    public Mono<ResolvedTopic> resolve(String tenant, String topic) {
        return registry.resolveTopic(tenant, topic);
    }
}
