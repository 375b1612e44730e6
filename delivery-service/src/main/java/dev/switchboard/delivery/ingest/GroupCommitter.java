package dev.switchboard.delivery.ingest;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.delivery.config.DeliveryProperties;
import dev.switchboard.delivery.log.LogItem;
import dev.switchboard.delivery.stream.LivePath;
import dev.switchboard.delivery.stream.LocalCommits;
import dev.switchboard.platform.problem.SwitchboardException;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
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
    private final LivePath live;
    private final LocalCommits local;

    GroupCommitter(EventWriter writer, DeliveryProperties properties, MeterRegistry meters, LivePath live, LocalCommits local) {
        this.writer = writer;
        this.live = live;
        this.local = local;
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
        long taken = System.nanoTime();
        for (Unit unit : group) {
            live.taken(unit.events().get(0).acceptedAt());
        }
        List<PendingEvent.PartitionKey> followed = followed(all);
        followed.forEach(p -> local.begin(p.tenant(), p.topic(), p.partition()));
        // Once per commit, whichever way it ends: the followed partitions get their batch (or an empty
        // one) and stop counting as committing, or their streams would leave NOTIFYs alone for good.
        AtomicBoolean handedOver = new AtomicBoolean();
        // The commit loop belongs to the instance, not to any one request: a request that goes away
        // does not cancel a transaction that carries other requests' events too.
        writer.commit(all).subscribe(
                results -> {
                    live.committed(taken);
                    announced(all, results);
                    try {
                        int offset = 0;
                        for (Unit unit : group) {
                            int n = unit.events().size();
                            unit.sink().success(List.copyOf(results.subList(offset, offset + n)));
                            offset += n;
                        }
                    } finally {
                        // After the answers: the streams' writes (and, in one process with the gateway,
                        // its fan-out to every socket) would otherwise go before them on the same event loops.
                        if (handedOver.compareAndSet(false, true)) {
                            handOver(all, results, followed);
                        }
                    }
                },
                error -> {
                    log.warn("Group commit of {} events failed: {}", all.size(), error.toString());
                    if (handedOver.compareAndSet(false, true)) {
                        handOver(all, null, followed);
                    }
                    SwitchboardException failure = new SwitchboardException(ErrorCode.UNAVAILABLE,
                            "The event log is unavailable; nothing was stored. Retry with the same ids.", error);
                    group.forEach(unit -> unit.sink().error(failure));
                    finished();
                },
                () -> {
                    if (handedOver.compareAndSet(false, true)) {
                        handOver(all, null, followed);
                    }
                    finished();
                });
    }

    /** Tells {@link LivePath} the heads this commit moved, to time their NOTIFY. */
    private void announced(List<PendingEvent> events, List<PublishResult> results) {
        Map<PendingEvent.PartitionKey, Long> heads = new HashMap<>();
        for (int i = 0; i < events.size(); i++) {
            if (!results.get(i).duplicate()) {
                heads.merge(events.get(i).partitionKey(), results.get(i).seq(), Math::max);
            }
        }
        heads.forEach((p, head) -> live.headCommitted(p.tenant(), p.topic(), p.partition(), head));
    }

    /** The partitions of the group that a live stream of this instance follows. */
    private List<PendingEvent.PartitionKey> followed(List<PendingEvent> events) {
        List<PendingEvent.PartitionKey> followed = new ArrayList<>(1);
        PendingEvent.PartitionKey last = null;
        for (PendingEvent e : events) {
            PendingEvent.PartitionKey p = e.partitionKey();
            if (!p.equals(last) && !followed.contains(p) && local.followed(p.tenant(), p.topic(), p.partition())) {
                followed.add(p);
            }
            last = p;
        }
        return followed;
    }

    /**
     * The new events of each followed partition to {@link LocalCommits}, rendered as the log stores
     * them, and the partitions no longer committing. A partition whose batch holds an event already
     * expired, whose seqs are not contiguous, or with only duplicates, gets an empty batch: its
     * streams read the log. So does every one when {@code results} is null (the commit failed).
     */
    private void handOver(List<PendingEvent> events, List<PublishResult> results, List<PendingEvent.PartitionKey> followed) {
        if (followed.isEmpty()) {
            return;
        }
        long committed = System.nanoTime();
        Map<PendingEvent.PartitionKey, List<LogItem.Event>> batches = new HashMap<>();
        if (results != null) {
            try {
                Instant now = Instant.now();
                followed.forEach(p -> batches.put(p, new ArrayList<>()));
                for (int i = 0; i < events.size(); i++) {
                    PendingEvent e = events.get(i);
                    PublishResult r = results.get(i);
                    List<LogItem.Event> batch = batches.get(e.partitionKey());
                    if (batch == null || r.duplicate()) {
                        continue;
                    }
                    if (e.expiresAt() != null && !e.expiresAt().isAfter(now)) {
                        batches.put(e.partitionKey(), null);
                        continue;
                    }
                    batch.add(new LogItem.Event(e.partition(), r.seq(), e.envelope().text(r.seq())));
                }
            } catch (RuntimeException e) {
                log.warn("Handing {} committed events to the live streams failed; they read the log instead", events.size(), e);
                batches.clear();
            }
        }
        for (PendingEvent.PartitionKey p : followed) {
            List<LogItem.Event> batch = batches.get(p);
            boolean whole = batch != null && !batch.isEmpty();
            if (whole) {
                batch.sort(Comparator.comparingLong(LogItem.Event::seq));
                whole = batch.get(batch.size() - 1).seq() - batch.get(0).seq() == batch.size() - 1;
            }
            local.committed(whole ? new LocalCommits.Batch(p.tenant(), p.topic(), p.partition(), List.copyOf(batch), committed)
                    : LocalCommits.Batch.readTheLog(p.tenant(), p.topic(), p.partition()));
            local.end(p.tenant(), p.topic(), p.partition());
        }
    }

    private void finished() {
        inFlight.decrementAndGet();
        drain();
    }
}
