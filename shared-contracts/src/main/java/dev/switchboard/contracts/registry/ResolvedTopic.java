package dev.switchboard.contracts.registry;

/**
 * The effective settings of one concrete topic: those of the exact declaration if there is one,
 * else of the most specific matching pattern ({@code declaredBy}).
 */
public record ResolvedTopic(String tenant, String topic, String declaredBy, TopicSettings settings) {
}
