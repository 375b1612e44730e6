package dev.switchboard.delivery.stream;

import dev.switchboard.platform.metrics.LiveStages;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.springframework.stereotype.Component;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * delivery-service's stages of the live path ({@link LiveStages}), in the order an event meets
 * them: {@value #QUEUE} (accepted until a group commit takes it), {@value #COMMIT} (the group's
 * transaction, until committed), {@value #NOTIFY} (committed until this instance's LISTEN
 * connection hears the new head; only for heads this instance committed), then per live stream
 * either {@value #HANDOFF} (committed until the stream took the events this instance committed
 * straight from {@link LocalCommits}) or {@value #READ} (the head heard until the stream has read
 * the new events from the log: events committed elsewhere, or a stream that missed a batch).
 */
@Component
public class LivePath {

    public static final String QUEUE = "delivery.queue";
    public static final String COMMIT = "delivery.commit";
    public static final String NOTIFY = "delivery.notify";
    public static final String READ = "delivery.read";
    public static final String HANDOFF = "delivery.handoff";

    /**
     * Heads committed here and not heard back yet, and heads heard before their commit's answer was
     * (or committed elsewhere). Either may never be matched (a NOTIFY lost while the LISTEN
     * connection was re-established; another instance's heads): past this many a map starts over.
     */
    private static final int MAX_PENDING_HEADS = 10_000;

    private final LiveStages stages;
    private final Timer commit;
    private final Timer notify;
    private final Timer read;
    private final Timer handoff;
    /** NOTIFY payload of a head ({@link HeadNotifier#PAYLOAD_SQL}) → when its commit returned (nanoTime). */
    private final Map<String, Long> committedAt = new ConcurrentHashMap<>();
    /** Heads heard with no commit of this instance waiting for them (yet). */
    private final Map<String, Boolean> heardFirst = new ConcurrentHashMap<>();

    LivePath(MeterRegistry meters) {
        this.stages = new LiveStages(meters);
        this.commit = stages.stage(COMMIT);
        this.notify = stages.stage(NOTIFY);
        this.read = stages.stage(READ);
        this.handoff = stages.stage(HANDOFF);
    }

    /** A publish request's events, accepted at {@code acceptedAt}, are taken into a group commit now. */
    public void taken(Instant acceptedAt) {
        stages.sinceWallClock(QUEUE, acceptedAt);
    }

    /** A group commit, taken at {@code takenNanos}, has committed. */
    public void committed(long takenNanos) {
        commit.record(System.nanoTime() - takenNanos, TimeUnit.NANOSECONDS);
    }

    /** This instance committed a partition up to {@code head}: its NOTIFY is on the way. */
    public void headCommitted(String tenant, String topic, int partition, long head) {
        String payload = tenant + ' ' + topic + ' ' + partition + ' ' + head;
        if (heardFirst.remove(payload) != null) {
            // PostgreSQL sends the NOTIFY as it commits; it can overtake the commit's own answer.
            notify.record(0, TimeUnit.NANOSECONDS);
            return;
        }
        bounded(committedAt).put(payload, System.nanoTime());
    }

    /** The LISTEN connection heard {@code payload} at {@code heardNanos}. */
    void heard(String payload, long heardNanos) {
        Long at = committedAt.remove(payload);
        if (at != null) {
            notify.record(heardNanos - at, TimeUnit.NANOSECONDS);
        } else {
            bounded(heardFirst).put(payload, Boolean.TRUE);
        }
    }

    private static <V> Map<String, V> bounded(Map<String, V> pending) {
        if (pending.size() >= MAX_PENDING_HEADS) {
            pending.clear();
        }
        return pending;
    }

    /** A live stream took a batch committed at {@code committedNanos} without reading the log. */
    void handedOver(long committedNanos) {
        handoff.record(System.nanoTime() - committedNanos, TimeUnit.NANOSECONDS);
    }

    /** A live stream woken by a head heard at {@code heardNanos} has read the new events. */
    void read(long heardNanos) {
        read.record(System.nanoTime() - heardNanos, TimeUnit.NANOSECONDS);
    }
}
