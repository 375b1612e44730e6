package dev.switchboard.delivery.stream;

import dev.switchboard.delivery.log.LogItem;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Events this instance has just committed, handed straight to its own live streams: a stream whose
 * cursor is right before a batch takes the events from here instead of reading back from
 * PostgreSQL what was written a moment ago. NOTIFY still announces every head, for the other
 * instances and for any stream that missed a batch.
 *
 * <p>Nothing here can deliver an event early, twice or out of order: a batch is handed over only
 * once its transaction has committed, and a stream takes it only when its first seq follows the
 * stream's cursor exactly ({@link LogStreams}); anything else — a stream behind, a batch dropped
 * because the stream was busy — goes on through the log read as before. Batches are offered only for
 * partitions some live stream of this instance follows, so publishing to a topic nobody streams
 * costs nothing here.
 *
 * <p>PostgreSQL sends a commit's NOTIFY as it commits, so this instance often hears its own new head
 * before the commit's answer is back, and a stream that read the log on that NOTIFY would make the
 * batch useless. So while this instance has a commit in flight for a partition
 * ({@link #committing}), its streams leave that partition's NOTIFYs to the batch that follows; a
 * commit that fails offers an empty batch instead, which sends the streams to the log (another
 * instance's head may have been among the NOTIFYs left alone).
 */
@Component
public class LocalCommits {

    /**
     * A partition's new events from one commit, in seq order, contiguous (a commit gives a partition
     * the seqs after its head), and committed at {@code committedNanos}. Empty: read the log (the
     * commit failed, or its events could not be handed over).
     */
    public record Batch(String tenant, String topic, int partition, List<LogItem.Event> events, long committedNanos) {
        public static Batch readTheLog(String tenant, String topic, int partition) {
            return new Batch(tenant, topic, partition, List.of(), 0);
        }

        long firstSeq() {
            return events.get(0).seq();
        }

        long lastSeq() {
            return events.get(events.size() - 1).seq();
        }
    }

    private record Followed(String tenant, String topic, int partition) {
    }

    private final Sinks.Many<Batch> batches = Sinks.many().multicast().directBestEffort();
    private final Map<Followed, AtomicInteger> followed = new ConcurrentHashMap<>();
    private final Map<Followed, AtomicInteger> inFlight = new ConcurrentHashMap<>();

    /** Whether a live stream of this instance follows the partition: only then is a batch worth building. */
    public boolean followed(String tenant, String topic, int partition) {
        AtomicInteger streams = followed.get(new Followed(tenant, topic, partition));
        return streams != null && streams.get() > 0;
    }

    /** A commit carrying events of the partition (one a live stream follows) is about to run. */
    public void begin(String tenant, String topic, int partition) {
        inFlight.computeIfAbsent(new Followed(tenant, topic, partition), k -> new AtomicInteger()).incrementAndGet();
    }

    /** That commit has ended, its batch offered (or, when it failed, an empty batch). */
    public void end(String tenant, String topic, int partition) {
        inFlight.computeIfPresent(new Followed(tenant, topic, partition), (k, n) -> n.decrementAndGet() == 0 ? null : n);
    }

    /** Whether a commit of this instance for the partition is in flight: its NOTIFY is best left to its batch. */
    boolean committing(String tenant, String topic, int partition) {
        AtomicInteger commits = inFlight.get(new Followed(tenant, topic, partition));
        return commits != null && commits.get() > 0;
    }

    /**
     * Offers a committed batch to the live streams. Serialised, as the sink requires: commits end on
     * several connections' threads at once. Streams that are busy miss it and read the log instead.
     */
    public synchronized void committed(Batch batch) {
        batches.tryEmitNext(batch);
    }

    /** Batches of one partition, for a live stream following it (counted while subscribed). */
    Flux<Batch> of(String tenant, String topic, int partition) {
        Followed key = new Followed(tenant, topic, partition);
        return batches.asFlux()
                .filter(b -> b.partition() == partition && b.topic().equals(topic) && b.tenant().equals(tenant))
                .doOnSubscribe(s -> followed.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet())
                .doFinally(signal -> followed.computeIfPresent(key, (k, n) -> n.decrementAndGet() == 0 ? null : n));
    }
}
