package dev.switchboard.delivery.ingest;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.delivery.config.DeliveryProperties;
import dev.switchboard.platform.problem.SwitchboardException;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Group commit: publishes that arrive while earlier transactions are in flight are carried
 * together by the next transaction, so throughput does not collapse to one round-trip per event
 * while "acknowledged" still means "committed" (nothing is answered before its transaction
 * commits; {@code synchronous_commit} is left on).
 *
 * <p>A request (one event, or one batch of up to 1000) is one unit: it is never split across
 * transactions, so a batch is all or nothing. At most {@code maxConcurrentCommits} transactions run
 * at once, each carrying up to {@code maxBatchEvents} events; at most {@code maxQueuedEvents} wait.
 * Past that the instance answers {@code 503 unavailable} with {@code Retry-After} instead of
 * buffering without bound.
 */
@Component
public class GroupCommitter {

    private static final Logger log = LoggerFactory.getLogger(GroupCommitter.class);

    private record Unit(List<PendingEvent> events, MonoSink<List<PublishResult>> sink) {
    }

    private final EventWriter writer;
    private final DeliveryProperties properties;
    private final Queue<Unit> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queuedEvents = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final DistributionSummary batchSizes;

    GroupCommitter(EventWriter writer, DeliveryProperties properties, MeterRegistry meters) {
        this.writer = writer;
        this.properties = properties;
        this.batchSizes = DistributionSummary.builder("switchboard.delivery.commit.batch.size")
                .description("Events committed per group-commit transaction")
                .publishPercentiles(0.5, 0.99)
                .register(meters);
        meters.gauge("switchboard.delivery.commit.queued", queuedEvents);
    }

    /** Commits the events of one request together; results in request order. */
    Mono<List<PublishResult>> submit(List<PendingEvent> events) {
        if (events.isEmpty()) {
            return Mono.just(List.of());
        }
        return Mono.create(sink -> {
            if (queuedEvents.addAndGet(events.size()) > properties.maxQueuedEvents()) {
                queuedEvents.addAndGet(-events.size());
                sink.error(SwitchboardException.retryLater(ErrorCode.UNAVAILABLE,
                        "The publish queue of this instance is full; retry shortly.", Duration.ofSeconds(1)));
                return;
            }
            queue.add(new Unit(events, sink));
            drain();
        });
    }

    private void drain() {
        while (true) {
            int running = inFlight.get();
            if (running >= properties.maxConcurrentCommits() || queue.isEmpty()) {
                return;
            }
            if (!inFlight.compareAndSet(running, running + 1)) {
                continue;
            }
            List<Unit> group = take();
            if (group.isEmpty()) {
                inFlight.decrementAndGet();
                continue;
            }
            commit(group);
        }
    }

    /**
     * Whole units, up to maxBatchEvents events (a unit bigger than that travels alone). Synchronized
     * so peek-then-poll is atomic among drainers; it holds no I/O, only a few queue operations.
     */
    private synchronized List<Unit> take() {
        List<Unit> group = new ArrayList<>();
        int events = 0;
        Unit next;
        while ((next = queue.peek()) != null) {
            if (!group.isEmpty() && events + next.events().size() > properties.maxBatchEvents()) {
                break;
            }
            queue.poll();
            group.add(next);
            events += next.events().size();
        }
        return group;
    }

    private void commit(List<Unit> group) {
        List<PendingEvent> all = new ArrayList<>();
        for (Unit unit : group) {
            all.addAll(unit.events());
        }
        queuedEvents.addAndGet(-all.size());
        batchSizes.record(all.size());
        // The commit loop belongs to the instance, not to any one request: a request that goes away
        // does not cancel a transaction that carries other requests' events too.
        writer.commit(all).subscribe(
                results -> {
                    int offset = 0;
                    for (Unit unit : group) {
                        int n = unit.events().size();
                        unit.sink().success(List.copyOf(results.subList(offset, offset + n)));
                        offset += n;
                    }
                },
                error -> {
                    log.warn("Group commit of {} events failed: {}", all.size(), error.toString());
                    SwitchboardException failure = new SwitchboardException(ErrorCode.UNAVAILABLE,
                            "The event log is unavailable; nothing was stored. Retry with the same ids.", error);
                    group.forEach(unit -> unit.sink().error(failure));
                    finished();
                },
                this::finished);
    }

    private void finished() {
        inFlight.decrementAndGet();
        drain();
    }
}
