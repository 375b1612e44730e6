package dev.switchboard.standalone;

import dev.switchboard.testsupport.History;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A producer as a careful user writes one from the protocol: one event at a time through the
 * gateway's REST edge, every {@code pauseMs}, each retried with its own id until it is answered
 * {@code 201}, or {@code 200} as a duplicate of an attempt whose answer was lost (a retry is never a
 * second event: delivery deduplicates by id). What was tried and
 * what was acknowledged goes into a {@link History}.
 */
final class RetryingProducer implements Runnable {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final HttpClient http;
    private final int gateway;
    private final String key;
    private final String topic;
    private final long pauseMs;
    private final History history;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;
    /** Retries answered as duplicates of an attempt that was stored though its answer was lost. */
    final AtomicInteger duplicates = new AtomicInteger();
    /** Publishes sent again. */
    final AtomicInteger retries = new AtomicInteger();
    /** Why publishes were sent again: a status and detail, or the I/O failure's class. */
    final Map<String, Integer> retried = new ConcurrentHashMap<>();
    /** Answers that are not worth a retry (anything but 200, 201, 429, 502, 503): faults of the run. */
    final List<String> refusals = Collections.synchronizedList(new ArrayList<>());

    RetryingProducer(HttpClient http, int gateway, String key, String topic, long pauseMs, History history) {
        this.http = http;
        this.gateway = gateway;
        this.key = key;
        this.topic = topic;
        this.pauseMs = pauseMs;
        this.history = history;
        this.thread = new Thread(this, "retrying-producer-" + topic);
    }

    @Override
    public void run() {
        for (int n = 1; running.get(); n++) {
            String id = "ev-" + n;
            String body = "{\"id\":\"" + id + "\",\"type\":\"tick\",\"data\":{\"n\":" + n + "}}";
            while (true) {
                try {
                    history.attempt(id);
                    HttpResponse<String> r = LoopbackHttp.send(http, "POST", gateway, "/v1/topics/" + topic + "/events", key, body);
                    // 201 stored; 200 "duplicate": an earlier attempt was stored, its answer lost — the same seq either way.
                    if (r.statusCode() == 201 || r.statusCode() == 200) {
                        history.acknowledge(id, JSON.readTree(r.body()).path("seq").asLong());
                        if (r.statusCode() == 200) {
                            duplicates.incrementAndGet();
                        }
                        break;
                    }
                    // 503 while a service restarts, 502, 429: what a producer retries; anything else is a fault.
                    if (r.statusCode() != 503 && r.statusCode() != 502 && r.statusCode() != 429) {
                        refusals.add(r.statusCode() + " " + r.body());
                        break;
                    }
                    retried.merge(r.statusCode() + " " + JSON.readTree(r.body()).path("detail").asString(), 1, Integer::sum);
                } catch (IOException e) {
                    // The gateway is down or restarting: connection refused or cut, the answer lost.
                    retried.merge(e.getClass().getSimpleName(), 1, Integer::sum);
                } catch (InterruptedException e) {
                    return;
                }
                retries.incrementAndGet();
                sleep(100);
            }
            sleep(pauseMs);
        }
    }

    /** The highest seq acknowledged so far (0 before the first). */
    long highestAcknowledged() {
        return history.acknowledged().values().stream().mapToLong(Long::longValue).max().orElse(0);
    }

    private void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running.set(false);
        }
    }

    void start() {
        thread.start();
    }

    void stop() throws InterruptedException {
        running.set(false);
        thread.join(60_000);
    }
}
