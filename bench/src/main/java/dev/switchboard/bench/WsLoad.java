package dev.switchboard.bench;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.WebsocketClientSpec;
import reactor.netty.resources.ConnectionProvider;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * The load client of {@code bench/ws.sh}: Reactor Netty WebSockets, each on its own connection
 * ({@link ConnectionProvider#newConnection()}: the default pool stops at 500 per host), for
 * subscribers and one publisher. The publisher runs open loop on a fixed clock: message {@code i}
 * is due at {@code start + i / rate}, carries that due time, and is written at it whatever the
 * server does with earlier ones; latency counts from the due time, so a stall anywhere (server,
 * client, scheduler) shows in the percentiles rather than lowering the rate (no coordinated omission).
 */
final class WsLoad implements AutoCloseable {

    static final Duration OPEN_TIMEOUT = Duration.ofSeconds(30);
    static final int OPEN_CONCURRENCY = 128;
    /** Keep-alive connections of a REST publisher: enough that a slow server, not this pool, is what a publish waits for. */
    static final int REST_CONNECTIONS = 512;
    /** Latencies above this are clamped (HdrHistogram's range, microseconds). */
    static final long MAX_MICROS = 120_000_000L;

    /** One measured rate point. */
    record Point(int rate, int subscribers, double seconds, long targetMessages, long sentMessages, long sendFailures,
                 long deliveriesInWindow, long expectedDeliveries, long deliveredByDeadline, long missing,
                 Histogram latency, long disconnects, long errors, String firstError, double maxSendLagMillis,
                 CpuSampler.Use cpu, double serverCpuSeconds, Histogram acks, Histogram afterAck, Histogram sends) {

        double targetDeliveriesPerSecond() {
            return (double) rate * subscribers;
        }

        double sentPerSecond() {
            return sentMessages / seconds;
        }

        double deliveriesPerSecond() {
            return deliveriesInWindow / seconds;
        }

        /** Share of the window's messages × subscribers that arrived by the deadline. */
        double completeness() {
            return expectedDeliveries == 0 ? Double.NaN : (double) deliveredByDeadline / expectedDeliveries;
        }

        double millis(double percentile) {
            return latency.getTotalCount() == 0 ? Double.NaN : latency.getValueAtPercentile(percentile) / 1000.0;
        }

        double cpuSecondsPerMillion() {
            return deliveriesInWindow == 0 ? Double.NaN : serverCpuSeconds / (deliveriesInWindow / 1e6);
        }
    }

    /** One WebSocket of the load client. */
    private final class Socket implements WsWire.Sink {

        final boolean publisher;
        final WsWire.Session session;
        final CompletableFuture<Socket> ready = new CompletableFuture<>();
        volatile Channel channel;
        volatile boolean closed;
        volatile int closeCode = -1;

        Socket(boolean publisher) {
            this.publisher = publisher;
            this.session = wire.session();
        }

        @Override
        public void delivery(long dueNanos, long index) {
            received(System.nanoTime(), dueNanos, index);
        }

        @Override
        public void acknowledged(long index) {
            publisherSink.acknowledged(index);
        }

        @Override
        public void ready() {
            ready.complete(this);
        }

        @Override
        public void error(String text) {
            errors.increment();
            firstError.compareAndSet(null, text);
        }

        @Override
        public void send(WebSocketFrame frame) {
            Channel c = channel;
            if (c != null) {
                c.writeAndFlush(frame);
            } else {
                frame.release();
            }
        }

        void frame(WebSocketFrame frame) {
            if (frame instanceof TextWebSocketFrame || frame instanceof BinaryWebSocketFrame || frame instanceof ContinuationWebSocketFrame) {
                ByteBuf content = frame.content();
                session.frame(content, this);
            }
        }

        void ended() {
            closed = true;
            ready.completeExceptionally(new IllegalStateException("closed before it was ready (close code " + closeCode + ")"));
            sockets.remove(this);
            if (!publisher && measuring) {
                disconnects.increment();
            }
            session.close();
        }

        void close() {
            Channel c = channel;
            if (c != null) {
                c.close();
            }
        }
    }

    /** The receive side of one rate point. */
    private static final class Window {

        final long from;
        final long to;
        final long firstIndex;
        final AtomicIntegerArray perMessage;
        final Recorder latency = new Recorder(1, MAX_MICROS, 3);
        /** Publish → the server's acknowledgement (Switchboard only). */
        final Recorder acks = new Recorder(1, MAX_MICROS, 3);
        /** The acknowledgement → each delivery (0 when the delivery came first): the fan-out part of the latency. */
        final Recorder afterAck = new Recorder(1, MAX_MICROS, 3);
        /** Due time → the publish frame flushed to the socket by this client (WebSocket publishers): the client's own delay. */
        final Recorder sends = new Recorder(1, MAX_MICROS, 3);
        final java.util.concurrent.atomic.AtomicLongArray ackedAt;
        long start;
        long period;

        /** Message indexes run on across the points of one load client, so a late reply of an earlier point is never taken for one of this. */
        long base;

        long due(long index) {
            return start + (index - base) * period;
        }
        final LongAdder inWindow = new LongAdder();
        volatile boolean closed;

        Window(long from, long to, long firstIndex, int messages) {
            this.from = from;
            this.to = to;
            this.firstIndex = firstIndex;
            this.perMessage = new AtomicIntegerArray(Math.max(1, messages));
            this.ackedAt = new java.util.concurrent.atomic.AtomicLongArray(Math.max(1, messages));
        }
    }

    private final WsWire wire;
    private final String url;
    private final HttpClient http;
    private final ConnectionProvider connections = ConnectionProvider.newConnection();
    private final java.util.Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final LongAdder received = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder disconnects = new LongAdder();
    private final AtomicReference<String> firstError = new AtomicReference<>();
    private volatile Window window;
    /** Acknowledgements and errors of REST publishes, reported like a publisher socket's. */
    private final WsWire.Sink publisherSink = new WsWire.Sink() {
        @Override
        public void delivery(long dueNanos, long index) {
        }

        @Override
        public void acknowledged(long index) {
            Window w = window;
            if (w != null && index >= w.firstIndex && index < w.firstIndex + w.perMessage.length() && !w.closed) {
                long now = System.nanoTime();
                w.ackedAt.set((int) (index - w.firstIndex), now);
                w.acks.recordValue(Math.max(1, Math.min((now - w.due(index)) / 1000, MAX_MICROS)));
            }
        }

        @Override
        public void ready() {
        }

        @Override
        public void error(String text) {
            errors.increment();
            firstError.compareAndSet(null, text);
        }

        @Override
        public void send(WebSocketFrame frame) {
            frame.release();
        }
    };
    private volatile boolean measuring;
    private Socket publisher;
    private LoadClient restClient;
    private long nextIndex;

    WsLoad(WsWire wire, String url) {
        this.wire = wire;
        this.url = url;
        this.http = HttpClient.create(connections).responseTimeout(OPEN_TIMEOUT);
    }

    private void received(long now, long due, long index) {
        received.increment();
        Window w = window;
        if (w == null) {
            return;
        }
        if (now >= w.from && now < w.to) {
            w.inWindow.increment();
        }
        long k = index - w.firstIndex;
        if (!w.closed && k >= 0 && k < w.perMessage.length()) {
            w.perMessage.incrementAndGet((int) k);
            w.latency.recordValue(Math.max(1, Math.min((now - due) / 1000, MAX_MICROS)));
            long acked = w.ackedAt.get((int) k);
            if (acked != 0) {
                w.afterAck.recordValue(Math.max(1, Math.min((now - acked) / 1000, MAX_MICROS)));
            } else if (wire.rest() != null || publisher != null && wire instanceof WsWire.Switchboard) {
                w.afterAck.recordValue(1);
            }
        }
    }

    private Mono<Socket> open(boolean asPublisher) {
        return Mono.defer(() -> {
            Socket socket = new Socket(asPublisher);
            sockets.add(socket);
            http.websocket(WebsocketClientSpec.builder().maxFramePayloadLength(1 << 20).build())
                    .uri(url)
                    .handle((in, out) -> {
                        in.withConnection(c -> socket.channel = c.channel());
                        in.receiveCloseStatus().subscribe(s -> socket.closeCode = s.code(), e -> { });
                        socket.session.open(socket, asPublisher);
                        return in.receiveFrames().doOnNext(socket::frame).then();
                    })
                    .doFinally(s -> socket.ended())
                    .subscribe(null, e -> {
                        firstError.compareAndSet(null, "connection: " + e);
                    });
            return Mono.fromFuture(socket.ready).timeout(OPEN_TIMEOUT).doOnError(e -> socket.close());
        });
    }

    /** Opens subscribers until {@code n} are open and ready; the number of failures. */
    int subscribers(int n) {
        int open = (int) sockets.stream().filter(s -> !s.publisher && !s.closed).count();
        if (open >= n) {
            return 0;
        }
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        Flux.range(0, n - open)
                .flatMap(i -> open(false).onErrorResume(e -> {
                    failures.add(e);
                    return Mono.empty();
                }), OPEN_CONCURRENCY)
                .then()
                .block(Duration.ofSeconds(120));
        if (!failures.isEmpty()) {
            firstError.compareAndSet(null, "open: " + failures.get(0));
        }
        return failures.size();
    }

    int openSubscribers() {
        return (int) sockets.stream().filter(s -> !s.publisher && !s.closed).count();
    }

    /** Closes every socket and waits (bounded) until they are gone. */
    void closeAll() throws InterruptedException {
        for (Socket s : sockets) {
            s.close();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!sockets.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        publisher = null;
    }

    /**
     * One rate point: {@code warmup} then {@code measure} of publishing at {@code rate} messages
     * per second; deliveries of the measured messages are awaited up to {@code drain} after the
     * last one was due. A delivery that never arrived counts in the latency histogram with its age
     * at that deadline (a lower bound), so losses cannot flatter the percentiles.
     *
     * @param cpu samples the server's CPU at the window's edges
     */
    Point run(int rate, Duration warmup, Duration measure, Duration drain, CpuSampler cpu, Runnable onWindowStart) throws InterruptedException {
        WsWire.Rest rest = wire.rest();
        if (rest == null && (publisher == null || publisher.closed)) {
            publisher = open(true).block(OPEN_TIMEOUT.plusSeconds(5));
        }
        if (rest != null && restClient == null) {
            restClient = new LoadClient("ws-bench-rest", rest.baseUrl(), rest.apiKey(), REST_CONNECTIONS);
        }
        int subscribers = openSubscribers();
        long period = 1_000_000_000L / rate;
        long warmupMessages = warmup.toNanos() / period;
        long measuredMessages = measure.toNanos() / period;
        long total = warmupMessages + measuredMessages;
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
        long from = start + warmupMessages * period;
        long to = start + total * period;
        long base = nextIndex;
        nextIndex += total;
        Window w = new Window(from, to, base + warmupMessages, (int) measuredMessages);
        w.base = base;
        w.start = start;
        w.period = period;
        window = w;
        long errorsBefore = errors.sum();
        long disconnectsBefore = disconnects.sum();
        measuring = true;

        LongAdder sent = new LongAdder();
        LongAdder failed = new LongAdder();
        AtomicLong maxLag = new AtomicLong();
        Channel channel = rest == null ? publisher.channel : null;
        LoadClient http = restClient;
        Thread clock = new Thread(() -> {
            for (long n = 0; n < total; n++) {
                long due = start + n * period;
                long i = base + n;
                long wait;
                while ((wait = due - System.nanoTime()) > 0) {
                    LockSupport.parkNanos(wait);
                }
                long lag = -wait;
                maxLag.accumulateAndGet(lag, Math::max);
                boolean counted = n >= warmupMessages;
                if (rest != null) {
                    // A backend's publish: counted as sent when the server answers 201 (committed).
                    long index = i;
                    http.post(rest.path(), rest.contentType(), wire.restBody(i, WsWire.payload(due, i))).subscribe(reply -> {
                        if (reply.status() == 201) {
                            if (counted) {
                                sent.increment();
                            }
                            publisherSink.acknowledged(index);
                        } else {
                            if (counted) {
                                failed.increment();
                            }
                            publisherSink.error("publish answered " + reply.status() + ": " + reply.body());
                        }
                    }, e -> {
                        if (counted) {
                            failed.increment();
                        }
                        publisherSink.error("publish failed: " + e);
                    });
                    continue;
                }
                channel.writeAndFlush(wire.publish(i, WsWire.payload(due, i))).addListener(f -> {
                    if (!counted) {
                        return;
                    }
                    if (f.isSuccess()) {
                        w.sends.recordValue(Math.max(1, Math.min((System.nanoTime() - due) / 1000, MAX_MICROS)));
                        sent.increment();
                    } else {
                        failed.increment();
                    }
                });
            }
        }, "ws-publisher");
        clock.setDaemon(true);
        clock.start();

        sleepUntil(from);
        CpuSampler.Snapshot a = cpu.snapshot();
        if (onWindowStart != null) {
            onWindowStart.run();
        }
        sleepUntil(to);
        CpuSampler.Snapshot b = cpu.snapshot();
        clock.join(TimeUnit.SECONDS.toMillis(10));

        // Wait for the measured messages' deliveries, at most `drain` after the last was due.
        long expected = measuredMessages * subscribers;
        long deadline = to + drain.toNanos();
        while (System.nanoTime() < deadline && delivered(w) < expected) {
            Thread.sleep(20);
        }
        w.closed = true;
        Thread.sleep(20);
        long closedAt = System.nanoTime();
        long deliveredByDeadline = 0;
        long missing = 0;
        for (int k = 0; k < w.perMessage.length() && k < measuredMessages; k++) {
            int got = w.perMessage.get(k);
            deliveredByDeadline += got;
            int lost = Math.max(0, subscribers - got);
            if (lost > 0) {
                missing += lost;
                long due = w.due(w.firstIndex + k);
                w.latency.recordValueWithCount(Math.min((closedAt - due) / 1000, MAX_MICROS), lost);
            }
        }
        measuring = false;
        Histogram latency = w.latency.getIntervalHistogram();
        CpuSampler.Use use = CpuSampler.between(a, b);
        double seconds = (to - from) / 1e9;
        double serverCpu = cpuSeconds(use, seconds);
        quiesce();
        window = null;
        return new Point(rate, subscribers, seconds, measuredMessages, sent.sum(), failed.sum(), w.inWindow.sum(), expected,
                deliveredByDeadline, missing, latency, disconnects.sum() - disconnectsBefore, errors.sum() - errorsBefore,
                firstError.get(), maxLag.get() / 1e6, use, serverCpu, w.acks.getIntervalHistogram(), w.afterAck.getIntervalHistogram(),
                w.sends.getIntervalHistogram());
    }

    /** Server CPU seconds in the window: the server process(es) plus, for Switchboard, its PostgreSQL backends. */
    static double cpuSeconds(CpuSampler.Use use, double seconds) {
        double cores = (Double.isNaN(use.platform()) ? 0 : use.platform()) + (Double.isNaN(use.backends()) ? 0 : use.backends());
        return cores * seconds;
    }

    private static long delivered(Window w) {
        long n = 0;
        for (int k = 0; k < w.perMessage.length(); k++) {
            n += w.perMessage.get(k);
        }
        return n;
    }

    /** Waits (at most 10 s) until nothing more arrives, so a backlog does not spill into the next point. */
    private void quiesce() throws InterruptedException {
        long last = received.sum();
        long quietSince = System.nanoTime();
        long deadline = quietSince + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            Thread.sleep(100);
            long now = received.sum();
            if (now != last) {
                last = now;
                quietSince = System.nanoTime();
            } else if (System.nanoTime() - quietSince > TimeUnit.MILLISECONDS.toNanos(300)) {
                return;
            }
        }
    }

    String firstError() {
        return firstError.get();
    }

    private static void sleepUntil(long nanos) throws InterruptedException {
        long wait;
        while ((wait = nanos - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(Math.min(wait, TimeUnit.MILLISECONDS.toNanos(100)));
        }
    }

    @Override
    public void close() {
        try {
            closeAll();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        connections.disposeLater().block(Duration.ofSeconds(10));
        if (restClient != null) {
            restClient.close();
        }
    }
}
