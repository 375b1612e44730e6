package dev.switchboard.bench;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * (c) Open-loop single-event publish at a fixed rate: request i is due at
 * {@code start + i / rate} and is sent then whatever earlier requests are doing, and its latency
 * is measured from that due time, not from when it was actually sent, so a stall of the server
 * (or of this client) shows in the percentiles instead of silently lowering the rate
 * (no coordinated omission). A warm-up at the same rate precedes the measured requests.
 */
final class FixedRatePublish {

    /** Concurrent requests allowed; far above rate × latency, so the pool never paces the sender. */
    static final int CONNECTIONS = 512;

    /**
     * @param achievedPerSecond acknowledged measured events / (last measured reply − first due time)
     * @param maxSendLagMillis  the most a send left after its due time (the client's own lateness)
     */
    record Point(int rate, long sent, long ok, long errors, String firstError, double achievedPerSecond,
                 Latency latency, double maxSendLagMillis, Probe.Interval probe) {
    }

    private final String gateway;
    private final String topic;
    private final String apiKey;
    private final Events events;
    private final Probe probe;
    final AtomicLong acknowledged = new AtomicLong();
    final AtomicLong uncertain = new AtomicLong();

    FixedRatePublish(String gateway, String topic, String apiKey, Events events, Probe probe) {
        this.gateway = gateway;
        this.topic = topic;
        this.apiKey = apiKey;
        this.events = events;
        this.probe = probe;
    }

    Point run(int rate, Duration warmup, Duration measure) throws Exception {
        long warmupCount = rate * warmup.toMillis() / 1000;
        long measuredCount = rate * measure.toMillis() / 1000;
        long total = warmupCount + measuredCount;
        double interval = 1e9 / rate;
        Latency latency = new Latency();
        AtomicLong ok = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        AtomicLong lastReply = new AtomicLong();
        AtomicReference<String> firstError = new AtomicReference<>();
        CountDownLatch replies = new CountDownLatch((int) total);
        String path = "/v1/topics/" + topic + "/events";
        long maxLag = 0;

        try (LoadClient client = new LoadClient("bench-rate-" + rate, gateway, apiKey, CONNECTIONS)) {
            long start = System.nanoTime() + 10_000_000L;
            long measuredFrom = start + (long) (warmupCount * interval);
            // Marked on another thread: the sender must not be late because of a metrics scrape.
            CompletableFuture<Probe.Mark> a = CompletableFuture.supplyAsync(() -> {
                BatchPublish.sleepUntil(measuredFrom);
                return probe.mark();
            });
            for (long i = 0; i < total; i++) {
                long due = start + (long) (i * interval);
                BatchPublish.sleepUntil(due);
                maxLag = Math.max(maxLag, System.nanoTime() - due);
                boolean measured = i >= warmupCount;
                byte[] body = events.single(0);
                // A detached subscribe is the point here: the sender must not wait for replies.
                client.post(path, LoadClient.SINGLE, body).subscribe(
                        reply -> {
                            long now = System.nanoTime();
                            if (reply.status() == 201 && reply.body().contains("\"duplicate\":false")) {
                                acknowledged.incrementAndGet();
                                if (measured) {
                                    ok.incrementAndGet();
                                    latency.recordNanos(now - due);
                                    lastReply.accumulateAndGet(now, Math::max);
                                }
                            } else {
                                uncertain.incrementAndGet();
                                if (measured) {
                                    errors.incrementAndGet();
                                }
                                firstError.compareAndSet(null, reply.status() + " " + BatchPublish.abbreviate(reply.body()));
                            }
                            replies.countDown();
                        },
                        error -> {
                            uncertain.incrementAndGet();
                            if (measured) {
                                errors.incrementAndGet();
                            }
                            firstError.compareAndSet(null, error.toString());
                            replies.countDown();
                        });
            }
            replies.await(LoadClient.RESPONSE_TIMEOUT.toSeconds() + 30, TimeUnit.SECONDS);
            Probe.Mark b = probe.mark();
            double span = (lastReply.get() - measuredFrom) / 1e9;
            double achieved = span > 0 ? ok.get() / span : Double.NaN;
            return new Point(rate, measuredCount, ok.get(), errors.get(), firstError.get(), achieved, latency, maxLag / 1e6,
                    Probe.between(a.get(), b));
        }
    }
}
