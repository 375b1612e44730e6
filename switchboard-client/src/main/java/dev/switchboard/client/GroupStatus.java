package dev.switchboard.client;

/**
 * A consumer group's position ({@code GET …/groups/{group}}): {@code committed} is the highest seq
 * up to which every event is done, {@code lag} = {@code head} − {@code committed}, {@code inFlight}
 * the events leased now, {@code deadLettered} those sent to {@code {topic}.dlq}. On a topic with
 * several partitions these are sums over its partitions. {@code orderedByKey} is fixed when the
 * group is created.
 */
public record GroupStatus(String group, String topic, boolean orderedByKey, long committed, long head, long lag, long inFlight,
                          long deadLettered) {
}
