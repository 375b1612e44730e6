package dev.switchboard.gateway.fanout;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.internal.PlatformDependent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Queue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The sockets of one event loop that have frames to write. An event fanned out to a thousand sockets
 * makes a thousand queues ready; rather than one task per socket, each loop gets one task that
 * drains every socket made ready meanwhile — one wake-up per loop and batch, not per socket.
 *
 * <p>A queue is here at most once at a time (it enters only when its {@link Outbound} turns from
 * idle to scheduled), so this holds at most one entry per socket of the loop.
 */
final class LoopBatch implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(LoopBatch.class);

    /** One per event loop thread, made there the first time one of its sockets attaches. */
    private static final FastThreadLocal<LoopBatch> CURRENT = new FastThreadLocal<>();

    private final EventLoop loop;
    private final Queue<Outbound> ready = PlatformDependent.newMpscQueue();
    private final AtomicBoolean scheduled = new AtomicBoolean();

    private LoopBatch(EventLoop loop) {
        this.loop = loop;
    }

    /** The batch of {@code loop}; call on that loop. */
    static LoopBatch of(EventLoop loop) {
        if (!loop.inEventLoop()) {
            throw new IllegalStateException("not on the channel's event loop");
        }
        LoopBatch batch = CURRENT.get();
        if (batch == null || batch.loop != loop) {
            batch = new LoopBatch(loop);
            CURRENT.set(batch);
        }
        return batch;
    }

    /** Any thread: {@code out} has frames to write (or its close to send). */
    void add(Outbound out) {
        ready.offer(out);
        if (!scheduled.get() && scheduled.compareAndSet(false, true)) {
            try {
                loop.execute(this);
            } catch (RejectedExecutionException e) {
                // The loop is shutting down, and its channels with it: their sessions drop their queues as they end.
                log.debug("event loop {} refused a drain", loop);
            }
        }
    }

    @Override
    public void run() {
        while (true) {
            Outbound out;
            while ((out = ready.poll()) != null) {
                try {
                    out.drain();
                } catch (RuntimeException e) {
                    // One socket's failure must not stall the others of this loop.
                    log.warn("writing to a socket failed", e);
                }
            }
            scheduled.set(false);
            // An add between the last poll and the reset saw the flag still set: take it now.
            if (ready.isEmpty() || !scheduled.compareAndSet(false, true)) {
                return;
            }
        }
    }
}
