package dev.switchboard.gateway.fanout;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.stream.ResumePoints;
import dev.switchboard.contracts.stream.StreamLine;
import dev.switchboard.gateway.protocol.FrameCodec;
import dev.switchboard.platform.problem.SwitchboardException;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.TreeMap;

/**
 * One socket's subscription to one topic, fed by the shared {@link Upstream} and, while it catches
 * up, by a private replay from the log.
 *
 * <p>The hand-over, with no gap and no duplicate: the subscription attaches to the upstream under
 * the upstream's lock at the upstream's position H (the {@code target}); from that moment every
 * event after H reaches {@link #onLive}. If the client's {@code after} is below H in some
 * partition, a private stream from delivery replays from {@code after} while the live events are
 * held back in order. Replayed events up to H are delivered; the first replayed event beyond H (or
 * reaching H) ends that partition's replay, because the held live events carry on from there. When
 * every partition is done the replay is cancelled and the held events are delivered. Throughout,
 * {@link #deliver} drops any event at or below the last one delivered in its partition, so overlaps
 * between the two streams — in either direction — cannot produce duplicates, and since both streams
 * are gap-free in seq order, nothing is skipped.
 *
 * <p>Memory stays bounded: the replay reads only while the socket's queue has room (it is pulled at
 * the client's speed), and when the held live events outgrow the queue's bounds they are dropped
 * and the target moves up to the upstream's current position — the replay simply goes on further
 * (it is a live stream too) and hands over later. The live stream itself never waits.
 *
 * <p>Lock order: upstream, then this, then the socket's {@link Outbound}.
 */
final class TopicSubscription implements Fanout.Handle {

    private static final int REPLAY_BATCH = 64;

    private final Fanout owner;
    private final Fanout.Key key;
    private final Map<Integer, Long> after;
    private final Long requestId;
    private final Outbound out;
    private final SubscriptionListener listener;

    private Upstream upstream;
    private boolean done;
    private boolean started;
    private Map<Integer, Long> delivered;
    private Map<Integer, Long> target;
    private ArrayDeque<OutFrame> held;
    private long heldBytes;
    private Replay replay;
    /** The largest replayed frame so far (0: none yet, so the replay asks for one to learn the size). */
    private volatile long largestReplayed;

    TopicSubscription(Fanout owner, Fanout.Key key, Map<Integer, Long> after, Long requestId,
                      Outbound out, SubscriptionListener listener) {
        this.owner = owner;
        this.key = key;
        this.after = after == null ? null : new TreeMap<>(after);
        this.requestId = requestId;
        this.out = out;
        this.listener = listener;
    }

    synchronized void attachedTo(Upstream upstream) {
        this.upstream = upstream;
    }

    /** Under the upstream's lock, at its position {@code head}; true when a private replay must start. */
    synchronized boolean start(Map<Integer, Long> head) {
        if (done || started) {
            return false;
        }
        started = true;
        Map<Integer, Long> start = new TreeMap<>(head);
        if (after != null) {
            head.keySet().forEach(p -> start.put(p, after.getOrDefault(p, 0L)));
        }
        listener.subscribed(key.topic(), requestId, head, start);
        delivered = new TreeMap<>(start);
        target = new TreeMap<>(head);
        if (!behind()) {
            return false;
        }
        held = new ArrayDeque<>();
        replay = new Replay();
        return true;
    }

    /** Outside any lock. */
    void startReplay() {
        Replay r;
        synchronized (this) {
            if (done || replay == null) {
                return;
            }
            r = replay;
        }
        owner.delivery().stream(key.tenant(), key.topic(), ResumePoints.format(delivered()))
                .subscribe(r);
    }

    private synchronized Map<Integer, Long> delivered() {
        return new TreeMap<>(delivered);
    }

    /** Under the upstream's lock: an event after the position this subscription attached at. */
    void onLive(OutFrame frame, Map<Integer, Long> upstreamPositions) {
        synchronized (this) {
            if (done || !started) {
                return;
            }
            if (held == null) {
                deliver(frame);
                return;
            }
            held.add(frame.retain());
            heldBytes += frame.bytes();
            if (held.size() > out.maxFrames() || heldBytes > out.maxBytes()) {
                // The replay is far behind: let it run on to where the shared stream is now.
                releaseHeld();
                target = new TreeMap<>(upstreamPositions);
            }
        }
    }

    /** Under the upstream's lock: retention removed events before the live stream reached them. */
    synchronized void onLiveGap(int partition, long to) {
        if (!done && started && held == null) {
            delivered.merge(partition, to, Math::max);
        }
    }

    private synchronized void onReplay(StreamLine line) {
        if (done || held == null) {
            return;
        }
        if (line instanceof StreamLine.EventLine e) {
            Long goal = target.get(e.partition());
            if (goal == null || e.seq() > goal) {
                // Beyond the hand-over point: the live side has (or will have) it. This partition is done.
                delivered.merge(e.partition(), goal == null ? e.seq() - 1 : goal, Math::max);
            } else {
                OutFrame frame = OutFrame.event(FrameCodec.event(key.topic(), e.envelope()), key.topic(), e.partition(), e.seq());
                largestReplayed = Math.max(largestReplayed, frame.bytes());
                try {
                    deliver(frame);
                } finally {
                    frame.release();
                }
            }
        } else if (line instanceof StreamLine.Gap g) {
            delivered.merge(g.partition(), g.to(), Math::max);
        }
        if (!done && !behind()) {
            handOver();
        }
    }

    /** Under this lock: the replay has reached the target everywhere; the held live events carry on. */
    private void handOver() {
        ArrayDeque<OutFrame> pending = held;
        held = null;
        heldBytes = 0;
        Replay r = replay;
        replay = null;
        if (r != null) {
            r.dispose();
        }
        OutFrame frame;
        while ((frame = pending.poll()) != null) {
            try {
                if (!done) {
                    deliver(frame);
                }
            } finally {
                frame.release();
            }
        }
    }

    /** Under this lock: drops the held live events (and the references they keep). */
    private void releaseHeld() {
        if (held != null) {
            OutFrame frame;
            while ((frame = held.poll()) != null) {
                frame.release();
            }
        }
        heldBytes = 0;
    }

    private boolean behind() {
        for (Map.Entry<Integer, Long> e : target.entrySet()) {
            if (delivered.getOrDefault(e.getKey(), 0L) < e.getValue()) {
                return true;
            }
        }
        return false;
    }

    /** Under this lock. Drops what was delivered already; a full queue means the socket lags. */
    private void deliver(OutFrame frame) {
        Long last = delivered.get(frame.partition());
        if (last != null && frame.seq() <= last) {
            return;
        }
        if (!out.offer(frame)) {
            if (!out.isFinished()) {
                listener.lagging();
            }
            stop();
            return;
        }
        delivered.put(frame.partition(), frame.seq());
    }

    /** Under this lock: nothing more is delivered; the upstream forgets us outside the lock. */
    private void stop() {
        done = true;
        releaseHeld();
        held = null;
        if (replay != null) {
            replay.dispose();
            replay = null;
        }
    }

    @Override
    public void cancel() {
        Upstream u;
        synchronized (this) {
            stop();
            u = upstream;
        }
        if (u != null) {
            u.detach(this);
        }
    }

    /** The upstream failed for good (it has forgotten us already). */
    void fail(ErrorCode code, String message) {
        synchronized (this) {
            if (done) {
                return;
            }
            stop();
        }
        listener.failed(key.topic(), requestId, code, message);
    }

    private void replayFailed(Throwable e) {
        Upstream u;
        synchronized (this) {
            if (done) {
                return;
            }
            stop();
            u = upstream;
        }
        if (u != null) {
            u.detach(this);
        }
        ErrorCode code = e instanceof SwitchboardException se ? se.code() : ErrorCode.UNAVAILABLE;
        String message = e instanceof SwitchboardException se && se.getBody().getDetail() != null
                ? se.getBody().getDetail() : "The event log is unavailable; subscribe again shortly.";
        listener.failed(key.topic(), requestId, code, message);
    }

    /** The private replay, read in batches that fit the socket's queue, only while it has room. */
    private final class Replay extends BaseSubscriber<StreamLine> {
        private int outstanding;

        @Override
        protected void hookOnSubscribe(Subscription subscription) {
            more();
        }

        @Override
        protected void hookOnNext(StreamLine line) {
            onReplay(line);
            boolean ask;
            synchronized (this) {
                ask = --outstanding == 0;
            }
            if (ask) {
                more();
            }
        }

        private void more() {
            if (isDisposed()) {
                return;
            }
            out.whenRoom(() -> {
                long largest = largestReplayed;
                int n = largest == 0 ? 1 : Math.min(REPLAY_BATCH, out.replayBudget(largest));
                synchronized (this) {
                    if (outstanding > 0) {
                        return;
                    }
                    outstanding = n;
                }
                request(n);
            });
        }

        @Override
        protected void hookOnError(Throwable throwable) {
            replayFailed(throwable);
        }

        @Override
        protected void hookOnComplete() {
            replayFailed(new SwitchboardException(ErrorCode.UNAVAILABLE, "The event log ended the stream."));
        }
    }
}
