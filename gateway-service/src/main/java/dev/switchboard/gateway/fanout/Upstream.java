package dev.switchboard.gateway.fanout;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.stream.ResumePoints;
import dev.switchboard.contracts.stream.StreamLine;
import dev.switchboard.gateway.protocol.FrameCodec;
import dev.switchboard.platform.problem.SwitchboardException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.util.retry.Retry;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The one stream of a (tenant, topic) on this gateway instance, shared by its local subscribers.
 *
 * <p>It opens without {@code after}, so delivery starts it at the current heads; its first line is
 * that position. From then on it keeps the position of the last line it saw, per partition, and
 * every event is framed once into an {@link OutFrame} handed to each subscriber under this
 * object's lock. Attaching a subscriber takes the same lock, so a subscriber attached at position
 * P gets exactly the events after P from here — the basis of the no-gap hand-over.
 *
 * <p>If delivery's stream fails or ends (a delivery restart), it is reopened with {@code after} =
 * the positions seen so far: the subscribers notice nothing, no event is lost and the duplicate
 * check drops any repeat. Problems that retrying cannot fix (the topic is gone) and retries running
 * out fail every subscriber with an {@code error} frame; the client resubscribes with its
 * {@code after}.
 */
final class Upstream {

    private static final Logger log = LoggerFactory.getLogger(Upstream.class);
    /**
     * Reopen attempts in a row (backoff from 100 ms, at most 2 s apart): about 30 s in all, longer
     * than a delivery instance takes to restart (17–19 s measured, SIGTERM to ready), so a rolling
     * restart reaches no subscriber. With 5
     * (about 3 s) each of 200 subscribers got an error frame and resubscribed 4–5 times while one
     * delivery instance restarted.
     */
    private static final int RETRIES = 18;
    /** Live-path stage: the event accepted by delivery-service until its line arrives here. */
    static final String STAGE_UPSTREAM = "gateway.upstream";
    private static final String TIME_FIELD = "\"time\":\"";

    private final Fanout.Key key;
    private final Fanout owner;
    private final List<TopicSubscription> subscribers = new ArrayList<>();
    /** Null until delivery's first (position) line. */
    private Map<Integer, Long> positions;
    private boolean opened;
    private boolean closed;
    private Disposable stream;

    Upstream(Fanout.Key key, Fanout owner) {
        this.key = key;
        this.owner = owner;
    }

    Fanout.Key key() {
        return key;
    }

    /** False when this upstream has closed: take a new one. */
    boolean attach(TopicSubscription subscription) {
        boolean replay;
        synchronized (this) {
            if (closed) {
                return false;
            }
            subscribers.add(subscription);
            subscription.attachedTo(this);
            replay = positions != null && subscription.start(new TreeMap<>(positions));
        }
        if (replay) {
            subscription.startReplay();
        }
        return true;
    }

    synchronized int subscriberCount() {
        return subscribers.size();
    }

    void detach(TopicSubscription subscription) {
        boolean idle;
        synchronized (this) {
            idle = subscribers.remove(subscription) && subscribers.isEmpty() && !closed;
        }
        if (idle) {
            owner.scheduleIdleCheck(this);
        }
    }

    void openOnce() {
        synchronized (this) {
            if (opened || closed) {
                return;
            }
            opened = true;
        }
        Disposable d = Flux.defer(() -> owner.delivery().stream(key.tenant(), key.topic(), resumeFrom()))
                .concatWith(Flux.error(() -> new SwitchboardException(ErrorCode.UNAVAILABLE, "The event log ended the stream.")))
                .retryWhen(Retry.backoff(RETRIES, Duration.ofMillis(100)).maxBackoff(Duration.ofSeconds(2))
                        .transientErrors(true)
                        .filter(Upstream::retryable)
                        .doBeforeRetry(s -> log.atInfo().addKeyValue("tenant", key.tenant())
                                .log("upstream {}/{} failed ({}); reopening", key.tenant(), key.topic(),
                                s.failure().getMessage())))
                .limitRate(256)
                .subscribe(this::onLine, this::onError);
        synchronized (this) {
            stream = d;
            if (closed) {
                d.dispose();
            }
        }
    }

    private synchronized String resumeFrom() {
        return positions == null ? null : ResumePoints.format(positions);
    }

    private void onLine(StreamLine line) {
        if (line instanceof StreamLine.EventLine e) {
            long arrived = System.nanoTime();
            Instant accepted = acceptedAt(e.envelope());
            if (accepted != null) {
                owner.delivery().stages().sinceWallClock(STAGE_UPSTREAM, accepted);
            }
            OutFrame frame = OutFrame.live(FrameCodec.event(key.topic(), e.envelope()), key.topic(), e.partition(), e.seq(), arrived);
            io.micrometer.tracing.Span span = owner.tracing().start(e.envelope(), key);
            int sockets = 0;
            try {
                synchronized (this) {
                    Long last = positions == null ? null : positions.get(e.partition());
                    if (positions == null || (last != null && e.seq() <= last)) {
                        return;
                    }
                    positions.put(e.partition(), e.seq());
                    for (TopicSubscription s : subscribers) {
                        s.onLive(frame, positions);
                    }
                    sockets = subscribers.size();
                }
            } finally {
                // Every queue that took the frame holds a reference of its own.
                frame.release();
                SocketDeliveryTracing.end(span, sockets);
            }
        } else if (line instanceof StreamLine.Position p) {
            List<TopicSubscription> replays = new ArrayList<>();
            synchronized (this) {
                if (positions != null) {
                    return; // a reopen: it starts where we asked it to
                }
                positions = new TreeMap<>(p.positions());
                for (TopicSubscription s : subscribers) {
                    if (s.start(new TreeMap<>(positions))) {
                        replays.add(s);
                    }
                }
            }
            replays.forEach(TopicSubscription::startReplay);
        } else if (line instanceof StreamLine.Gap g) {
            synchronized (this) {
                if (positions != null) {
                    positions.merge(g.partition(), g.to(), Math::max);
                    for (TopicSubscription s : subscribers) {
                        s.onLiveGap(g.partition(), g.to());
                    }
                }
            }
        }
    }

    private void onError(Throwable e) {
        List<TopicSubscription> failed;
        synchronized (this) {
            closed = true;
            failed = new ArrayList<>(subscribers);
            subscribers.clear();
        }
        owner.forget(this);
        ErrorCode code = e instanceof SwitchboardException se ? se.code() : ErrorCode.UNAVAILABLE;
        String message = e instanceof SwitchboardException se && se.getBody().getDetail() != null
                ? se.getBody().getDetail() : "The event log is unavailable; subscribe again shortly.";
        if (code == ErrorCode.UNAVAILABLE) {
            log.atWarn().addKeyValue("tenant", key.tenant())
                    .log("upstream {}/{} gave up: {}", key.tenant(), key.topic(), e.toString());
        }
        failed.forEach(s -> s.fail(code, message));
    }

    /** Closes when still without subscribers (after the linger). */
    void closeIfIdle() {
        synchronized (this) {
            if (!subscribers.isEmpty() || closed) {
                return;
            }
            closed = true;
        }
        owner.forget(this);
        dispose();
    }

    void close() {
        synchronized (this) {
            closed = true;
        }
        owner.forget(this);
        dispose();
    }

    private void dispose() {
        Disposable d;
        synchronized (this) {
            d = stream;
        }
        if (d != null) {
            d.dispose();
        }
    }

    /**
     * The envelope's {@code time}, which delivery-service sets to the moment it accepted the event.
     * The first {@code "time":"} is the envelope's own: every field before it is a JSON string, in
     * which a quote is always escaped, and {@code data} comes after it.
     */
    static Instant acceptedAt(String envelope) {
        String time = attribute(envelope, TIME_FIELD);
        try {
            return time == null ? null : Instant.parse(time);
        } catch (DateTimeParseException ex) {
            return null;
        }
    }

    /**
     * A top-level string attribute of an envelope as delivery renders it ({@code marker} is
     * {@code "name":"}): its attributes come before {@code data}, and inside a string a quote is
     * escaped, so the first match is the attribute. Null when absent.
     */
    static String attribute(String envelope, String marker) {
        int at = envelope.indexOf(marker);
        if (at < 0) {
            return null;
        }
        int from = at + marker.length();
        int to = envelope.indexOf('"', from);
        return to < 0 ? null : envelope.substring(from, to);
    }

    private static boolean retryable(Throwable e) {
        return !(e instanceof SwitchboardException se) || se.code() == ErrorCode.UNAVAILABLE;
    }
}
