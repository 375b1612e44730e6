package dev.switchboard.delivery.group;

import dev.switchboard.contracts.envelope.Event;
import dev.switchboard.delivery.ingest.PublishService;
import dev.switchboard.delivery.topic.TopicLookup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;

/**
 * Publishes an event that a group gave up on to the dead-letter topic {@code {topic}.dlq}, through
 * the normal publish path (its buckets, its checks, its sequencing; only consumer-lag backpressure does
 * not apply), so the dead-letter topic is an ordinary topic: readable, streamable, consumable by groups of its own.
 *
 * <p>The dead letter is the original event — type, source, subject, data, partitionkey,
 * causationid, correlationid, traceparent, its own extension attributes — with these extension
 * attributes added: {@code deadlettertopic}, {@code deadletterpartition}, {@code deadletterseq}
 * (a decimal string: seqs outgrow the 32-bit integers CloudEvents attributes may hold),
 * {@code deadletterid} (the original id), {@code deadlettergroup}, {@code deadletterattempts} and
 * {@code deadletterreason}. It has no ttl of its own (the parent's default ttl applies, if any),
 * and a new time. Its id is {@code dlq.{group}.{partition}.{seq}}: publishing it again (a sweep
 * that failed after publishing, or two sweeps at once) is a duplicate within the topic's dedup
 * window, not a second dead letter.
 */
@Component
class DeadLetters {

    private static final Logger log = LoggerFactory.getLogger(DeadLetters.class);
    private static final int MAX_REASON = 512;

    private final PublishService publisher;
    private final JsonMapper json;
    private final GroupMetrics metrics;

    DeadLetters(PublishService publisher, JsonMapper json, GroupMetrics metrics) {
        this.publisher = publisher;
        this.json = json;
        this.metrics = metrics;
    }

    /** The dead letter for one event; true once it is committed in the dead-letter topic. False (logged, counted) if it could not be. */
    Mono<Boolean> publish(String tenant, String topic, String group, int partition, long seq, int attempts, String reason,
                          String envelope) {
        return Mono.fromCallable(() -> letter(topic, group, partition, seq, attempts, reason, envelope))
                .flatMap(letter -> publisher.publishDeadLetter(tenant, TopicLookup.deadLetterTopic(topic), letter))
                .thenReturn(true)
                .onErrorResume(e -> {
                    metrics.deadLetterFailed(tenant);
                    log.atWarn().addKeyValue("tenant", tenant)
                            .log("Could not dead-letter seq {} of partition {} for group {} (tenant {}); it stays pending and is tried again: {}",
                            seq, partition, group, tenant, e.toString());
                    return Mono.just(false);
                });
    }

    Event letter(String topic, String group, int partition, long seq, int attempts, String reason, String envelope) {
        Event original = json.readValue(envelope, Event.class);
        String why = reason == null || reason.isBlank() ? "no reason given" : reason;
        if (why.length() > MAX_REASON) {
            why = why.substring(0, MAX_REASON);
        }
        return original.toBuilder()
                .id("dlq." + group + "." + partition + "." + seq)
                .tenant(null)
                .topic(null)
                .seq(null)
                .partition(null)
                .expiresAt(null)
                .ttl(null)
                .time(null)
                .extension("deadlettertopic", topic)
                .extension("deadletterpartition", partition)
                .extension("deadletterseq", Long.toString(seq))
                .extension("deadletterid", original.id())
                .extension("deadlettergroup", group)
                .extension("deadletterattempts", attempts)
                .extension("deadletterreason", why)
                .build();
    }
}
