package dev.switchboard.delivery.topic;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.registry.ResolvedTopic;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.registryclient.RegistryClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * The topics delivery-service accepts: whatever the registry resolves (an exact declaration or the
 * most specific pattern), and besides the dead-letter topic {@code {topic}.dlq} of every topic the
 * registry resolves, with its parent's settings. So consumer groups can always dead-letter, and the
 * dead-letter topic is read, replayed and consumed like any other topic without a declaration of
 * its own. A declaration that matches {@code {topic}.dlq} itself (exact, or a pattern such as
 * {@code orders.>}) wins over the parent's settings, as the registry's rules say.
 *
 * <p>Enforced here, in delivery, for every publish, read, stream and group operation. The registry
 * itself does not know the rule: a gateway that asks the registry directly (the WebSocket
 * {@code subscribe} frame does) sees {@code topic_not_found} for an undeclared {@code .dlq} topic.
 */
@Component
public class TopicLookup {

    /** The suffix of a dead-letter topic. */
    public static final String DLQ_SUFFIX = ".dlq";

    private final RegistryClient registry;

    TopicLookup(RegistryClient registry) {
        this.registry = registry;
    }

    /** The dead-letter topic of {@code topic}. */
    public static String deadLetterTopic(String topic) {
        return topic + DLQ_SUFFIX;
    }

    public Mono<ResolvedTopic> resolve(String tenant, String topic) {
        Mono<ResolvedTopic> own = registry.resolveTopic(tenant, topic);
        if (!topic.endsWith(DLQ_SUFFIX) || topic.length() == DLQ_SUFFIX.length()) {
            return own;
        }
        String parent = topic.substring(0, topic.length() - DLQ_SUFFIX.length());
        return own.onErrorResume(e -> e instanceof SwitchboardException s && s.code() == ErrorCode.TOPIC_NOT_FOUND,
                e -> resolve(tenant, parent)
                        .map(p -> new ResolvedTopic(tenant, topic, p.declaredBy(), p.settings()))
                        .onErrorMap(parentError -> parentError instanceof SwitchboardException s && s.code() == ErrorCode.TOPIC_NOT_FOUND,
                                parentError -> e));
    }
}
