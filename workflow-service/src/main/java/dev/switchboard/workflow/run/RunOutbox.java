package dev.switchboard.workflow.run;

import dev.switchboard.workflow.config.WorkflowProperties;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Publishes what the run transitions wrote to {@code run_outbox}, in order: consecutive events for
 * one topic as one batch, each stored by delivery before the rows go. Whoever made a decision
 * flushes its run right after the commit; a sweep picks up what a replica that died left behind.
 * Publishing a row twice stores it once (fixed ids). A row delivery refuses for good (its topic
 * was deleted) is dropped with a WARN and a count, so one dead topic never blocks a run's later events.
 */
@Component
class RunOutbox {

    private static final Logger log = LoggerFactory.getLogger(RunOutbox.class);
    static final int PAGE = 100;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final RunRepository repository;
    private final DeliveryPublisher publisher;
    private final Duration timeout;
    private final Counter dropped;

    RunOutbox(RunRepository repository, DeliveryPublisher publisher, WorkflowProperties properties, MeterRegistry meters) {
        this.repository = repository;
        this.publisher = publisher;
        this.timeout = properties.runs().publishTimeout();
        this.dropped = Counter.builder("switchboard.workflow.outbox.dropped")
                .description("Run events delivery-service refused for good (their topic is gone), dropped from the outbox")
                .register(meters);
    }

    /** Publishes a run's waiting events, oldest first, until none are left. */
    Mono<Void> flush(RunKey key) {
        return repository.pending(key.tenant(), key.run(), PAGE).collectList().flatMap(page -> page.isEmpty()
                ? Mono.<Void>empty()
                : Flux.fromIterable(groups(page))
                        .concatMap(group -> publish(key, group).then(repository.dequeue(key.tenant(), key.run(),
                                group.get(group.size() - 1).position())))
                        .then(page.size() == PAGE ? flush(key) : Mono.empty()));
    }

    /** Flushes the runs whose events have waited longer than {@code age}. */
    Mono<Void> sweep(Duration age) {
        return repository.staleOutbox(age, PAGE).concatMap(this::flush).then();
    }

    private Mono<Void> publish(RunKey key, List<RunRepository.Pending> group) {
        String topic = group.get(0).topic();
        List<JsonNode> events = group.stream().map(p -> JSON.readTree(p.event())).toList();
        return publisher.publish(key.tenant(), topic, events, timeout)
                .onErrorResume(DeliveryPublisher.Refused.class, e -> {
                    dropped.increment(events.size());
                    log.atWarn().addKeyValue("tenant", key.tenant())
                            .log("Dropped {} event(s) of run {} (tenant {}) for topic {}: {}", events.size(), key.run(),
                            key.tenant(), topic, e.getMessage());
                    return Mono.empty();
                });
    }

    /** Consecutive rows for the same topic together. */
    private static List<List<RunRepository.Pending>> groups(List<RunRepository.Pending> page) {
        List<List<RunRepository.Pending>> groups = new ArrayList<>();
        for (RunRepository.Pending p : page) {
            if (groups.isEmpty() || !groups.get(groups.size() - 1).get(0).topic().equals(p.topic())) {
                groups.add(new ArrayList<>());
            }
            groups.get(groups.size() - 1).add(p);
        }
        return groups;
    }
}
