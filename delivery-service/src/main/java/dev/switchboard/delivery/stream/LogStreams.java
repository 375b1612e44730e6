package dev.switchboard.delivery.stream;

import dev.switchboard.delivery.config.DeliveryProperties;
import dev.switchboard.delivery.log.EventReader;
import dev.switchboard.delivery.log.LogItem;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

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

    LogStreams(EventReader reader, HeadNotifier notifier, DeliveryProperties properties, MeterRegistry meters) {
        this.reader = reader;
        this.notifier = notifier;
        this.properties = properties;
        this.meters = meters;
        meters.gauge("switchboard.delivery.streams.open", open);
    }

    /** One partition, from after {@code after}. */
    public Flux<LogItem> partition(String tenant, String topic, int partition, long after) {
        return Flux.defer(() -> {
            AtomicLong cursor = new AtomicLong(after);
            Flux<Long> wakeups = Flux.merge(
                            Mono.just(0L),
                            notifier.heads()
                                    .filter(h -> h.partition() == partition && h.topic().equals(topic) && h.tenant().equals(tenant))
                                    .map(HeadNotifier.Head::head)
                                    .filter(head -> head > cursor.get()),
                            Flux.interval(properties.pollInterval()))
                    .onBackpressureLatest();
            return wakeups.concatMap(w -> drain(tenant, topic, partition, cursor), 1);
        });
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

    /**
     * Everything available after the cursor, page by page. Each page is fetched from the previous
     * page's own cursor and held one at a time (prefetch 1), so memory stays at about one page.
     */
    private Flux<LogItem> drain(String tenant, String topic, int partition, AtomicLong cursor) {
        int size = properties.pageSize();
        Counter rowsRead = Counter.builder("switchboard.delivery.stream.rows.read")
                .description("Log rows read by live streams (a slow reader keeps this behind the head)")
                .tag("tenant", tenant)
                .register(meters);
        return Mono.defer(() -> reader.page(tenant, topic, partition, cursor.get(), size))
                .expand(page -> page.rowsRead() < size ? Mono.empty()
                        : reader.page(tenant, topic, partition, page.cursor(), size))
                .doOnNext(page -> {
                    cursor.set(page.cursor());
                    rowsRead.increment(page.rowsRead());
                })
                .concatMapIterable(EventReader.Page::items, 1);
    }
}
