package dev.switchboard.bench;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The events the benchmark sends: CloudEvents of exactly {@value #EVENT_BYTES} bytes of JSON,
 * each with a producer-set id unique within the run (so the dedup path is exercised like a real
 * idempotent producer's, and a retried duplicate would show up as a mismatch in the final count).
 */
final class Events {

    static final int EVENT_BYTES = 200;
    static final String TYPE = "bench.sample";

    private final String run;
    private final AtomicLong counter = new AtomicLong();

    Events(String run) {
        this.run = run;
    }

    /** One event, as a producer sends it. */
    String event(int producer) {
        long n = counter.incrementAndGet();
        String head = "{\"specversion\":\"1.0\",\"id\":\"" + run + "-" + producer + "-" + n + "\",\"source\":\"/bench/p" + producer
                + "\",\"type\":\"" + TYPE + "\",\"datacontenttype\":\"application/json\",\"data\":{\"n\":" + n + ",\"text\":\"";
        String tail = "\"}}";
        int pad = Math.max(1, EVENT_BYTES - head.length() - tail.length());
        return head + "x".repeat(pad) + tail;
    }

    /** A batch request body: a JSON array of {@code size} events. */
    byte[] batch(int producer, int size) {
        StringBuilder body = new StringBuilder(size * (EVENT_BYTES + 1) + 2).append('[');
        for (int i = 0; i < size; i++) {
            if (i > 0) {
                body.append(',');
            }
            body.append(event(producer));
        }
        return body.append(']').toString().getBytes(StandardCharsets.UTF_8);
    }

    byte[] single(int producer) {
        return event(producer).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * What delivery-service stores in {@code events.envelope} for such an event: the event plus
     * time, tenant, topic, partition, seq and traceparent. (a) writes rows of this size.
     */
    String envelope(String tenant, String topic, long seq) {
        String event = event(0);
        ThreadLocalRandom random = ThreadLocalRandom.current();
        String trace = "00-" + hex(random.nextLong()) + hex(random.nextLong()) + "-" + hex(random.nextLong()) + "-01";
        String attributes = ",\"time\":\"" + Instant.now() + "\",\"tenant\":\"" + tenant + "\",\"topic\":\"" + topic
                + "\",\"partition\":0,\"seq\":" + seq + ",\"traceparent\":\"" + trace + "\",\"data\":";
        return event.replace(",\"data\":", attributes);
    }

    private static String hex(long v) {
        return String.format("%016x", v);
    }
}
