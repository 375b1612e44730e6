package dev.switchboard.gateway.fanout;

import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A socket's outbound queue: bounded in frames and in bytes, drained by the socket's one writer
 * ({@link #flux()}) only as fast as the socket's demand, which Reactor Netty withholds while the
 * channel is not writable. {@link #offer} never blocks and never waits: when the queue is full it
 * says no, and the caller cuts the socket (lagging) — so a slow socket can never hold back the
 * shared upstream or anyone else.
 *
 * <p>The queue also keeps the socket's resume points: per subscribed topic, the position of the
 * last event handed to the writer (or the subscription's start before any). {@link #finish} reads
 * them atomically with dropping whatever is still queued, so a {@code reconnect} frame's resume
 * points are exactly what the client has been sent, no more and no less.
 */
public final class Outbound {

    private final int maxFrames;
    private final long maxBytes;
    private final Runnable onWrite;
    private final ArrayDeque<OutFrame> queue = new ArrayDeque<>();
    private final Map<String, Map<Integer, Long>> positions = new HashMap<>();
    private final List<Runnable> spaceWaiters = new CopyOnWriteArrayList<>();
    private final AtomicInteger wip = new AtomicInteger();
    private long bytes;
    private boolean finished;
    /** Only touched by the draining thread (the wip loop). */
    private boolean completed;
    private volatile FluxSink<OutFrame> sink;

    /** @param onWrite called for every frame handed to the writer (a metric) */
    public Outbound(int maxFrames, long maxBytes, Runnable onWrite) {
        this.maxFrames = maxFrames;
        this.maxBytes = maxBytes;
        this.onWrite = onWrite;
    }

    public int maxFrames() {
        return maxFrames;
    }

    public long maxBytes() {
        return maxBytes;
    }

    /** Queues a frame; false when the queue is full (the socket is lagging) or finished. */
    public boolean offer(OutFrame frame) {
        synchronized (this) {
            if (finished) {
                return false;
            }
            if (queue.size() >= maxFrames || (bytes + frame.bytes() > maxBytes && !queue.isEmpty())) {
                return false;
            }
            queue.add(frame);
            bytes += frame.bytes();
        }
        drain();
        return true;
    }

    /** Whether at most half the queue is in use: a private replay may read on. */
    public synchronized boolean hasRoom() {
        return !finished && queue.size() <= maxFrames / 2 && bytes <= maxBytes / 2;
    }

    /** Runs {@code waiter} once, as soon as {@link #hasRoom()} (perhaps right away). */
    public void whenRoom(Runnable waiter) {
        spaceWaiters.add(waiter);
        if (hasRoom()) {
            fireWaiters();
        }
    }

    public synchronized int depth() {
        return queue.size();
    }

    /** A subscription starts at {@code start}: its resume point until an event of it is written. */
    public synchronized void startPositions(String topic, Map<Integer, Long> start) {
        positions.put(topic, new TreeMap<>(start));
    }

    public synchronized void removePositions(String topic) {
        positions.remove(topic);
    }

    /**
     * The last frames: no more offers are taken, what is queued is dropped if {@code discard}, and
     * {@code last} — built from the resume points as they stand — goes out after whatever remains;
     * then the flux completes.
     */
    public void finish(boolean discard, Function<Map<String, Map<Integer, Long>>, OutFrame> last) {
        synchronized (this) {
            if (finished) {
                return;
            }
            finished = true;
            if (discard) {
                queue.clear();
                bytes = 0;
            }
            Map<String, Map<Integer, Long>> resume = new TreeMap<>();
            positions.forEach((topic, p) -> resume.put(topic, Map.copyOf(p)));
            OutFrame frame = last.apply(resume);
            if (frame != null) {
                queue.add(frame);
                bytes += frame.bytes();
            }
        }
        spaceWaiters.clear();
        drain();
    }

    public synchronized boolean isFinished() {
        return finished;
    }

    /**
     * The frames to write, once; completes after {@link #finish}. Frames are handed over only
     * against the writer's demand, so the sink needs no buffer of its own ({@code IGNORE}: the
     * default {@code BUFFER} sink would allocate a 256-slot queue per socket that stays empty).
     */
    public Flux<OutFrame> flux() {
        return Flux.create(s -> {
            sink = s;
            s.onRequest(n -> drain());
            drain();
        }, FluxSink.OverflowStrategy.IGNORE);
    }

    private void drain() {
        if (wip.getAndIncrement() != 0) {
            return;
        }
        do {
            FluxSink<OutFrame> s = sink;
            if (s != null) {
                boolean complete = false;
                boolean room = false;
                List<OutFrame> batch = new ArrayList<>();
                synchronized (this) {
                    long demand = s.requestedFromDownstream();
                    while (demand-- > 0 && !queue.isEmpty()) {
                        OutFrame frame = queue.poll();
                        bytes -= frame.bytes();
                        if (frame.isEvent()) {
                            Map<Integer, Long> p = positions.get(frame.topic());
                            if (p != null) {
                                p.put(frame.partition(), frame.seq());
                            }
                        }
                        batch.add(frame);
                    }
                    if (finished && queue.isEmpty()) {
                        complete = true;
                    } else if (!batch.isEmpty() && !spaceWaiters.isEmpty()) {
                        room = !finished && queue.size() <= maxFrames / 2 && bytes <= maxBytes / 2;
                    }
                }
                for (OutFrame frame : batch) {
                    onWrite.run();
                    s.next(frame);
                }
                if (complete && !completed) {
                    completed = true;
                    s.complete();
                }
                if (room) {
                    fireWaiters();
                }
            }
        } while (wip.decrementAndGet() != 0);
    }

    private void fireWaiters() {
        for (Runnable waiter : spaceWaiters) {
            if (spaceWaiters.remove(waiter)) {
                waiter.run();
            }
        }
    }
}
