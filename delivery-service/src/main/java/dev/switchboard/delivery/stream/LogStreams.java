package dev.switchboard.delivery.stream;

import dev.switchboard.delivery.config.DeliveryProperties;
import dev.switchboard.delivery.log.EventReader;
import dev.switchboard.delivery.log.LogItem;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Live streams of a topic partition from any point: they replay from PostgreSQL and then follow
 * the log as it grows. Every item comes from a bounded cursor read ({@code seq > cursor ORDER BY seq
 * LIMIT n}); a NOTIFY of a new head (or the poll timer) only wakes the reader. So the hand-over from
 * replay to live is the same loop, with no gap and no duplicate, and a slow subscriber is read for
 * only as fast as it requests.
 */
@Component
public class LogStreams {

    private final EventReader reader;
    private final HeadNotifier notifier;
    private final DeliveryProperties properties;
    private final AtomicInteger open = new AtomicInteger();
    private final MeterRegistry meters;
    private final LivePath live;
    private final LocalCommits local;

    LogStreams(EventReader reader, HeadNotifier notifier, DeliveryProperties properties, MeterRegistry meters, LivePath live,
               LocalCommits local) {
        this.reader = reader;
        this.live = live;
        this.local = local;
        this.notifier = notifier;
        this.properties = properties;
        this.meters = meters;
        meters.gauge("switchboard.delivery.streams.open", open);
    }

    /**
     * Why a stream looks at the log again: a head heard at {@code heardNanos} (0 for the first read
     * and the timer's), or a batch this instance has just committed.
     */
    private record Wake(long heardNanos, LocalCommits.Batch batch) {
        static final Wake READ = new Wake(0, null);
    }

    /** One partition, from after {@code after}. */
    public Flux<LogItem> partition(String tenant, String topic, int partition, long after) {
        return Flux.defer(() -> {
            AtomicLong cursor = new AtomicLong(after);
            Flux<Wake> wakeups = Flux.merge(
                            Mono.just(Wake.READ),
                            local.of(tenant, topic, partition)
                                    .filter(b -> b.events().isEmpty() || b.lastSeq() > cursor.get())
                                    .map(b -> new Wake(0, b)),
                            notifier.heads()
                                    .filter(h -> h.partition() == partition && h.topic().equals(topic) && h.tenant().equals(tenant)
                                            && h.head() > cursor.get() && !local.committing(tenant, topic, partition))
                                    .map(h -> new Wake(h.heardNanos(), null)),
                            Flux.interval(properties.pollInterval()).map(tick -> Wake.READ))
                    .onBackpressureLatest();
            return wakeups.concatMap(wake -> wake.batch() != null
                    ? handOver(tenant, topic, partition, cursor, wake.batch())
                    : drain(tenant, topic, partition, cursor, wake.heardNanos()), 1);
        });
    }

    /**
     * A batch this instance committed: taken as it is when it starts right after the cursor (or
     * overlaps it), so the events need not be read back; after a gap — something committed before
     * it has not reached this stream — the log is read instead, which holds the batch too.
     */
    private Flux<LogItem> handOver(String tenant, String topic, int partition, AtomicLong cursor, LocalCommits.Batch batch) {
        long at = cursor.get();
        if (batch.events().isEmpty() || batch.firstSeq() > at + 1) {
            return drain(tenant, topic, partition, cursor, 0);
        }
        if (batch.lastSeq() <= at) {
            return Flux.empty();
        }
        List<LogItem.Event> fresh = batch.events().subList((int) (at + 1 - batch.firstSeq()), batch.events().size());
        cursor.set(batch.lastSeq());
        rowsTaken(tenant).increment(fresh.size());
        live.handedOver(batch.committedNanos());
        return Flux.fromIterable(fresh);
    }

    /** Several partitions merged; each keeps its own order. */
    public Flux<LogItem> topic(String tenant, String topic, Map<Integer, Long> afterByPartition) {
        return Flux.defer(() -> {
                    open.incrementAndGet();
                    return Flux.merge(afterByPartition.entrySet().stream()
                            .map(e -> partition(tenant, topic, e.getKey(), e.getValue()))
                            .toList());
                })
                .doFinally(s -> open.decrementAndGet());
    }

    /** Rows live streams of the tenant moved past: read from the log or handed over from a commit. */
    private Counter rowsTaken(String tenant) {
        return Counter.builder("switchboard.delivery.stream.rows.read")
                .description("Log rows live streams took, read from the log or handed over from a commit (a slow reader keeps this behind the head)")
                .tag("tenant", tenant)
                .register(meters);
    }

    /**
     * Everything available after the cursor, page by page. Each page is fetched from the previous
     * page's own cursor and held one at a time (prefetch 1), so memory stays at about one page.
     */
    private Flux<LogItem> drain(String tenant, String topic, int partition, AtomicLong cursor, long heard) {
        int size = properties.pageSize();
        Counter rowsRead = rowsTaken(tenant);
        return Mono.defer(() -> reader.page(tenant, topic, partition, cursor.get(), size))
                .doOnNext(first -> {
                    if (heard != 0 && !first.items().isEmpty()) {
                        live.read(heard);
                    }
                })
                .expand(page -> page.rowsRead() < size ? Mono.empty()
                        : reader.page(tenant, topic, partition, page.cursor(), size))
                .doOnNext(page -> {
                    cursor.set(page.cursor());
                    rowsRead.increment(page.rowsRead());
                })
                .concatMapIterable(EventReader.Page::items, 1);
    }
}
