package dev.switchboard.bench;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * (b) Closed-loop batched publish: {@code producers} producers, each on its own connection,
 * each sending a batch of {@value #BATCH_SIZE} events and the next one as soon as the previous
 * is acknowledged (201 with a fresh seq for every event). Throughput counts events whose
 * acknowledgement arrived within the measured interval, after a warm-up.
 */
final class BatchPublish {

    static final int BATCH_SIZE = 100;

    record Point(int producers, long events, long requests, double seconds, long errors, String firstError,
                 Latency latency, Probe.Interval probe) {

        double eventsPerSecond() {
            return events / seconds;
        }
    }

    private final String gateway;
    private final String topic;
    private final String apiKey;
    private final Events events;
    private final Probe probe;
    /** Every acknowledged event of this topic, warm-up and drain included: what the log must hold. */
    final AtomicLong acknowledged = new AtomicLong();
    /** Requests that failed or timed out: their events may or may not be in the log. */
    final AtomicLong uncertain = new AtomicLong();

    BatchPublish(String gateway, String topic, String apiKey, Events events, Probe probe) {
        this.gateway = gateway;
        this.topic = topic;
        this.apiKey = apiKey;
        this.events = events;
        this.probe = probe;
    }

    Point run(int producers, Duration warmup, Duration measure) throws Exception {
        Latency latency = new Latency();
        AtomicLong measuredEvents = new AtomicLong();
        AtomicLong measuredRequests = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        AtomicReference<String> firstError = new AtomicReference<>();
        AtomicBoolean stop = new AtomicBoolean();
        String path = "/v1/topics/" + topic + "/events";

        try (LoadClient client = new LoadClient("bench-batch-" + producers, gateway, apiKey, producers)) {
            long start = System.nanoTime();
            long from = start + warmup.toNanos();
            long to = from + measure.toNanos();

            Flux<Void> load = Flux.range(0, producers).flatMap(producer -> Mono.defer(() -> {
                byte[] body = events.batch(producer, BATCH_SIZE);
                long sent = System.nanoTime();
                return client.post(path, LoadClient.BATCH, body)
                        .map(reply -> {
                            long now = System.nanoTime();
                            boolean ok = reply.status() == 201 && LoadClient.count(reply.body(), "\"duplicate\":false") == BATCH_SIZE;
                            if (ok) {
                                acknowledged.addAndGet(BATCH_SIZE);
                                if (now >= from && now < to) {
                                    measuredEvents.addAndGet(BATCH_SIZE);
                                    measuredRequests.incrementAndGet();
                                    latency.recordNanos(now - sent);
                                }
                            } else {
                                uncertain.incrementAndGet();
                                errors.incrementAndGet();
                                firstError.compareAndSet(null, reply.status() + " " + abbreviate(reply.body()));
                            }
                            return ok;
                        })
                        .onErrorResume(e -> {
                            uncertain.incrementAndGet();
                            errors.incrementAndGet();
                            firstError.compareAndSet(null, e.toString());
                            return Mono.just(false);
                        })
                        // A failing server is not hammered in a tight loop.
                        .flatMap(ok -> ok ? Mono.<Void>empty() : Mono.delay(Duration.ofMillis(100)).then());
            }).repeat(() -> !stop.get()), producers);

            CompletableFuture<Void> done = load.then().toFuture();
            sleepUntil(from);
            Probe.Mark a = probe.mark();
            sleepUntil(to);
            Probe.Mark b = probe.mark();
            stop.set(true);
            done.get(LoadClient.RESPONSE_TIMEOUT.toSeconds() + 30, TimeUnit.SECONDS);
            return new Point(producers, measuredEvents.get(), measuredRequests.get(), measure.toNanos() / 1e9, errors.get(),
                    firstError.get(), latency, Probe.between(a, b));
        }
    }

    static void sleepUntil(long nanoTime) {
        long left;
        while ((left = nanoTime - System.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
        }
    }

    static String abbreviate(String s) {
        String one = s.replaceAll("\\s+", " ");
        return one.length() > 200 ? one.substring(0, 200) + "…" : one;
    }
}
