package dev.switchboard.registry.topic;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.names.TopicNames;
import dev.switchboard.contracts.names.TopicPattern;
import dev.switchboard.contracts.registry.ResolvedTopic;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.registry.api.Problems;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

import java.util.Map;

/**
 * The effective settings of a concrete topic name: its exact declaration if there is one, else the
 * most specific matching pattern by {@link TopicPattern#MOST_SPECIFIC_FIRST}. PostgreSQL narrows
 * and ranks the candidates; {@link TopicPattern}, the matcher every service shares, has the last
 * word, so the registry can never disagree with the others about which pattern wins.
 */
@Component
public class TopicResolver {

    private final TopicRepository topics;

    TopicResolver(TopicRepository topics) {
        this.topics = topics;
    }

    /** @throws SwitchboardException 400 for an invalid name (patterns included), 404 topic_not_found when nothing matches */
    public Mono<ResolvedTopic> resolve(String tenant, String topic) {
        if (topic == null || !TopicNames.isValidTopicName(topic)) {
            return Mono.error(SwitchboardException.invalid("name must be a concrete topic name (segments [a-z0-9][a-z0-9_-]* "
                    + "joined by dots, at most " + TopicNames.MAX_TOPIC_LENGTH + " characters), got \""
                    + Problems.shorten(topic) + "\"."));
        }
        return winner(tenant, topic)
                .map(row -> new ResolvedTopic(tenant, topic, row.name(), row.settings()))
                .switchIfEmpty(Mono.error(() -> notFound(topic)));
    }

    /** The declaration governing a concrete topic, if any. */
    Mono<TopicRow> winner(String tenant, String topic) {
        if (!TopicNames.isValidTenantId(tenant)) {
            return Mono.empty();
        }
        return topics.candidates(tenant, topic)
                .collectMap(row -> TopicPattern.of(row.name()))
                .flatMap(byPattern -> Mono.justOrEmpty(byPattern.entrySet().stream()
                        .filter(entry -> entry.getKey().matches(topic))
                        .min(Map.Entry.comparingByKey(TopicPattern.MOST_SPECIFIC_FIRST))
                        .map(Map.Entry::getValue)));
    }

    static SwitchboardException notFound(String topic) {
        return new SwitchboardException(ErrorCode.TOPIC_NOT_FOUND,
                "No topic or pattern is declared for '" + Problems.shorten(topic) + "'.");
    }
}
