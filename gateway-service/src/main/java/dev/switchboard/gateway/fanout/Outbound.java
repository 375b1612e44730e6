package dev.switchboard.gateway.fanout;

import dev.switchboard.gateway.protocol.WebSocketWire;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPromise;
import io.netty.channel.VoidChannelPromise;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.function.IntConsumer;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * A socket's outbound queue and its writer: bounded in frames and in bytes, written straight to the
 * socket's Netty channel, on the channel's event loop, only while the channel is writable.
 * {@link #offer} never blocks and never waits: when the queue is full it says no, and the caller
 * cuts the socket (lagging) — so a slow socket can never hold back the shared upstream or anyone else.
 *
 * <p>Writing: an offer to an idle queue hands it to its loop's {@link LoopBatch}, which drains every
 * queue made ready meanwhile in one task. A drain writes frames while the channel is writable and
 * flushes once; when the channel stops being writable (its outbound buffer is past the high water
 * mark) the queue stays scheduled and {@link #onWritable} — the pipeline's writability event — goes
 * on. Frames are complete WebSocket frames ({@link OutFrame}): an event's bytes are written to every
 * socket as duplicates of one buffer. Once {@link #finish} was called and the queue is empty, the
 * close frame goes out as the socket's last frame.
 *
 * <p>The queue also keeps the socket's resume points: per subscribed topic, the position of the
 * last event handed to the channel (or the subscription's start before any). {@link #finish} reads
 * them atomically with dropping whatever is still queued, so a {@code reconnect} frame's resume
 * points are exactly what the client has been sent, no more and no less.
 */
public final class Outbound {

    private final int maxFrames;
    private final long maxBytes;
    private final IntConsumer onWritten;
    private final LongConsumer onLiveWritten;
    private final ArrayDeque<OutFrame> queue = new ArrayDeque<>(8);
    /**
     * Per subscribed topic, the seq last written in each partition (index = partition; -1: none
     * known): an array, since it is updated for every event written, and a map would box a seq for
     * every socket and event.
     */
    private final Map<String, long[]> positions = new HashMap<>(4);
    private final List<Runnable> spaceWaiters = new CopyOnWriteArrayList<>();
    // Guarded by this.
    private long bytes;
    private boolean finished;
    /** Handed to the loop's batch (or stopped on an unwritable channel) and not drained dry since. */
    private boolean scheduled;
    /** The socket is gone: nothing is written any more. */
    private boolean abandoned;
    /** Set once by {@link #attach}. */
    private LoopBatch batch;
    private Channel channel;
    private Supplier<?> closeFrame;
    // Only touched on the channel's event loop.
    private ChannelPromise quiet;
    /** The last drain stopped at an unwritable channel; the queue is not in its batch meanwhile. */
    private boolean stalled;
    private boolean closeWritten;
    private boolean draining;
    private boolean again;

    /** @param onWritten called with the number of frames each drain wrote (a metric) */
    public Outbound(int maxFrames, long maxBytes, IntConsumer onWritten) {
        this(maxFrames, maxBytes, onWritten, since -> { });
    }

    /**
     * @param onLiveWritten called with {@link OutFrame#liveSince()} of each live event as it is
     *                      written (the drain flushes right after): the socket stage of the live path
     */
    public Outbound(int maxFrames, long maxBytes, IntConsumer onWritten, LongConsumer onLiveWritten) {
        this.maxFrames = maxFrames;
        this.maxBytes = maxBytes;
        this.onWritten = onWritten;
        this.onLiveWritten = onLiveWritten;
    }

    public int maxFrames() {
        return maxFrames;
    }

    public long maxBytes() {
        return maxBytes;
    }

    /**
     * Binds the queue to its socket; call once, on the channel's event loop. Frames offered before
     * go out now. {@code closeFrame} makes the close frame written after the last frame.
     */
    public void attach(Channel channel, Supplier<?> closeFrame) {
        LoopBatch loop = LoopBatch.of(channel.eventLoop());
        // Write failures need no callback: a failed write closes the channel, which ends the socket.
        quiet = new VoidChannelPromise(channel, false);
        boolean wake;
        synchronized (this) {
            this.channel = channel;
            this.closeFrame = closeFrame;
            this.batch = loop;
            wake = !scheduled && (finished || !queue.isEmpty());
            scheduled |= wake;
        }
        if (wake) {
            loop.add(this);
        }
    }

    /** Queues a frame (with a reference of its own); false when the queue is full (the socket is lagging) or finished. */
    public boolean offer(OutFrame frame) {
        LoopBatch wake;
        synchronized (this) {
            if (finished) {
                return false;
            }
            if (queue.size() >= maxFrames || (bytes + frame.bytes() > maxBytes && !queue.isEmpty())) {
                return false;
            }
            queue.add(frame.retain());
            bytes += frame.bytes();
            wake = schedule();
        }
        if (wake != null) {
            wake.add(this);
        }
        return true;
    }

    /** Whether at most half the queue is in use: a private replay may read on. */
    public synchronized boolean hasRoom() {
        return !finished && queue.size() <= maxFrames / 2 && bytes <= maxBytes / 2;
    }

    /**
     * How many frames of up to {@code frameBytes} a private replay may ask for now: what fits below
     * three quarters of both bounds (a quarter stays free for the socket's other topics and for
     * frames larger than the estimate), at least 1. A replay that asked for a fixed count was cut
     * as lagging by its own catch-up when the events were large (64 × 30 KB against 1 MiB).
     */
    public synchronized int replayBudget(long frameBytes) {
        long frames = maxFrames * 3L / 4 - queue.size();
        long byBytes = (maxBytes * 3 / 4 - bytes) / Math.max(1, frameBytes);
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, Math.min(frames, byBytes)));
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
        long[] seqs = new long[start.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1];
        Arrays.fill(seqs, -1);
        start.forEach((partition, seq) -> seqs[partition] = seq);
        positions.put(topic, seqs);
    }

    public synchronized void removePositions(String topic) {
        positions.remove(topic);
    }

    /**
     * The last frames: no more offers are taken, what is queued is dropped if {@code discard}, and
     * {@code last} — built from the resume points as they stand, owned by the queue from then on —
     * goes out after whatever remains; then the close frame.
     */
    public void finish(boolean discard, Function<Map<String, Map<Integer, Long>>, OutFrame> last) {
        LoopBatch wake;
        synchronized (this) {
            if (finished) {
                return;
            }
            finished = true;
            if (discard) {
                clear();
            }
            Map<String, Map<Integer, Long>> resume = new TreeMap<>();
            positions.forEach((topic, seqs) -> {
                Map<Integer, Long> p = new TreeMap<>();
                for (int partition = 0; partition < seqs.length; partition++) {
                    if (seqs[partition] >= 0) {
                        p.put(partition, seqs[partition]);
                    }
                }
                resume.put(topic, Collections.unmodifiableMap(p));
            });
            OutFrame frame = last.apply(resume);
            if (frame != null) {
                queue.add(frame);
                bytes += frame.bytes();
            }
            wake = schedule();
        }
        spaceWaiters.clear();
        if (wake != null) {
            wake.add(this);
        }
    }

    /** The socket is gone: nothing more is written (not even the close frame), what is queued is dropped. */
    public void abandon() {
        synchronized (this) {
            finished = true;
            abandoned = true;
            clear();
        }
        spaceWaiters.clear();
    }

    public synchronized boolean isFinished() {
        return finished;
    }

    /** The channel's event loop, when the channel turned writable again: go on writing. */
    public void onWritable() {
        if (stalled) {
            drain();
        }
    }

    /** Under this lock: the batch to hand this queue to, or null when it is handed already (or not attached yet). */
    private LoopBatch schedule() {
        if (scheduled || batch == null) {
            return null;
        }
        scheduled = true;
        return batch;
    }

    /** Under this lock. */
    private void clear() {
        OutFrame frame;
        while ((frame = queue.poll()) != null) {
            frame.release();
        }
        bytes = 0;
    }

    /** On the channel's event loop only (the batch, {@link #onWritable}); a flush may call back in. */
    void drain() {
        if (draining) {
            again = true;
            return;
        }
        draining = true;
        try {
            do {
                again = false;
                drainOnce();
            } while (again);
        } finally {
            draining = false;
        }
    }

    private void drainOnce() {
        Channel ch = channel;
        stalled = false;
        int written = 0;
        boolean close = false;
        while (true) {
            OutFrame frame;
            synchronized (this) {
                if (!abandoned && !ch.isActive()) {
                    // Closed under us; the socket's cleanup comes shortly.
                    abandoned = true;
                    finished = true;
                    clear();
                }
                if (abandoned) {
                    scheduled = false;
                    break;
                }
                if (!ch.isWritable()) {
                    stalled = true; // still scheduled, so offers do not hand it to the batch: onWritable goes on
                    break;
                }
                frame = queue.poll();
                if (frame == null) {
                    scheduled = false;
                    close = finished && !closeWritten;
                    break;
                }
                bytes -= frame.bytes();
                if (frame.isEvent()) {
                    long[] seqs = positions.get(frame.topic());
                    if (seqs != null) {
                        if (frame.partition() >= seqs.length) {
                            // A partition the start did not name (the topic grew): make room.
                            int known = seqs.length;
                            seqs = Arrays.copyOf(seqs, frame.partition() + 1);
                            Arrays.fill(seqs, known, seqs.length, -1);
                            positions.put(frame.topic(), seqs);
                        }
                        seqs[frame.partition()] = frame.seq();
                    }
                }
            }
            // The duplicate carries the queue's reference: the channel releases it once written.
            ch.write(frame.isPing() ? WebSocketWire.ping() : frame.wire().duplicate(), quiet);
            if (frame.liveSince() != 0) {
                onLiveWritten.accept(frame.liveSince());
            }
            written++;
        }
        if (close) {
            closeWritten = true;
            ch.write(closeFrame.get(), quiet);
        }
        if (written > 0 || close) {
            ch.flush();
        }
        if (written > 0) {
            onWritten.accept(written);
            if (!spaceWaiters.isEmpty() && hasRoom()) {
                fireWaiters();
            }
        }
    }

    private void fireWaiters() {
        for (Runnable waiter : spaceWaiters) {
            if (spaceWaiters.remove(waiter)) {
                waiter.run();
            }
        }
    }
}
