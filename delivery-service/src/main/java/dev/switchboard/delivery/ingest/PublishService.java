package dev.switchboard.delivery.ingest;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.names.TopicNames;
import dev.switchboard.delivery.config.DeliveryProperties;
import dev.switchboard.delivery.lag.LagBackpressure;
import dev.switchboard.delivery.limit.PublishLimiter;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.delivery.topic.TopicLookup;
import dev.switchboard.registryclient.RegistryClient;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.springframework.stereotype.Service;
import reactor.core.publisher.Mono;
import dev.switchboard.contracts.envelope.Event;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Publishing: resolve the topic ({@link TopicLookup}: dead-letter topics included) and the tenant's
 * quotas through the registry (cached), refuse it if the topic's consumers are too far behind
 * ({@link LagBackpressure}: an in-memory look-up, before any other work), normalise
 * every event, take the request's tokens from the tenant's and the topic's bucket
 * ({@link PublishLimiter}), and hand the request to group commit as one all-or-nothing unit. A rejected
 * request stores nothing: every check runs before anything is queued.
 */
@Service
public class PublishService {

    private final RegistryClient registry;
    private final TopicLookup topics;
    private final EventNormalizer normalizer;
    private final GroupCommitter committer;
    private final DeliveryProperties properties;
    private final MeterRegistry meters;
    private final PublishLimiter limiter;
    private final LagBackpressure lag;

    PublishService(RegistryClient registry, TopicLookup topics, EventNormalizer normalizer, GroupCommitter committer,
                   DeliveryProperties properties, MeterRegistry meters, PublishLimiter limiter, LagBackpressure lag) {
        this.limiter = limiter;
        this.lag = lag;
        this.registry = registry;
        this.topics = topics;
        this.normalizer = normalizer;
        this.committer = committer;
        this.properties = properties;
        this.meters = meters;
    }

    /**
     * @param batch       whether the request was a batch (index prefixes in messages)
     * @param traceparent the W3C trace context of the request (null: none); events sent without one carry it
     */
    public Mono<List<PublishResult>> publish(String tenant, String topic, List<Event> sent, boolean batch, String traceparent) {
        return publish(tenant, topic, sent, batch, true, traceparent);
    }

    /**
     * A dead letter that a consumer group moves to {@code topic} (its {@code {parent}.dlq}): every
     * check of {@link #publish} except consumer lag. The event leaves the parent's backlog as it
     * arrives here, so refusing it would only keep the parent's group stuck on it and its lag growing;
     * and no producer is there to slow down.
     */
    public Mono<List<PublishResult>> publishDeadLetter(String tenant, String topic, Event letter) {
        return publish(tenant, topic, List.of(letter), false, false, null);
    }

    private Mono<List<PublishResult>> publish(String tenant, String topic, List<Event> sent, boolean batch, boolean lagApplies,
                                              String traceparent) {
        long started = System.nanoTime();
        if (!TopicNames.isValidTenantId(tenant)) {
            return Mono.error(SwitchboardException.invalid("Invalid tenant id."));
        }
        if (!TopicNames.isValidTopicName(topic)) {
            return Mono.error(SwitchboardException.invalid("Invalid topic name '" + topic + "': segments of [a-z0-9_-] joined by dots."));
        }
        if (sent.isEmpty()) {
            return Mono.error(SwitchboardException.invalid("The batch is empty."));
        }
        if (sent.size() > properties.maxBatchSize()) {
            return Mono.error(new SwitchboardException(ErrorCode.PAYLOAD_TOO_LARGE,
                    "A batch holds at most " + properties.maxBatchSize() + " events; this one has " + sent.size() + "."));
        }
        return Mono.zip(topics.resolve(tenant, topic), registry.quotas(tenant))
                .flatMap(t -> {
                    if (lagApplies) {
                        lag.check(tenant, topic, t.getT1().settings());
                    }
                    Instant now = Instant.now();
                    List<PendingEvent> pending = new ArrayList<>(sent.size());
                    for (int i = 0; i < sent.size(); i++) {
                        pending.add(normalizer.normalize(sent.get(i), t.getT1(), t.getT2(), now, batch ? i : -1, traceparent));
                    }
                    // Only a request that is valid as a whole takes tokens.
                    limiter.acquire(tenant, topic, t.getT2(), t.getT1().settings().publishRate(), pending.size());
                    return committer.submit(pending);
                })
                .doOnSuccess(results -> record(tenant, "accepted", null, started, results.size()))
                .doOnError(e -> record(tenant, "rejected", e, started, sent.size()));
    }

    private void record(String tenant, String outcome, Throwable error, long started, int events) {
        // The tenant comes from the gateway's authenticated credential; a malformed one never becomes a tag.
        String tag = TopicNames.isValidTenantId(tenant) ? tenant : "invalid";
        Timer.builder("switchboard.delivery.publish")
                .description("Publish requests, from arrival to commit")
                .tags("tenant", tag, "outcome", outcome)
                .register(meters)
                .record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
        if (error == null) {
            Counter.builder("switchboard.delivery.events.published").tags("tenant", tag).register(meters).increment(events);
        } else {
            String code = error instanceof SwitchboardException s ? s.code().code() : ErrorCode.INTERNAL.code();
            Counter.builder("switchboard.delivery.publish.rejected").tags("tenant", tag, "code", code).register(meters).increment();
        }
    }
}
