package dev.switchboard.standalone;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue #13's rolling upgrade, each service a process of its own ({@link ServiceProcesses}): while a
 * producer publishes without pause through the gateway and 200 WebSocket subscribers follow the
 * topic, every service is restarted in turn as an orchestrator does it — SIGTERM, wait for the
 * process to exit, start the new one on the same port, wait for its readiness. The producer
 * retries what was not answered with the same event id (a retry is never a second event); the
 * subscribers resume by themselves ({@link ResumingSubscriber}). Then: every acknowledged event is
 * in the log exactly once and nothing else is, and every subscriber saw every event once, in order,
 * with no gap. How long each restart took and how many reconnects it caused are printed.
 */
class RollingUpgradeIntegrationTests {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int SUBSCRIBERS = 200;
    private static final String TOPIC = "feed";

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** The producer: one event at a time, every 40 ms, each retried with its id until it is answered 201. */
    private final class Producer implements Runnable {
        private final int gateway;
        private final String key;
        private final AtomicBoolean running = new AtomicBoolean(true);
        final Map<String, Long> acknowledged = new ConcurrentHashMap<>();
        final AtomicInteger retries = new AtomicInteger();
        /** Why publishes were retried: a status, or the I/O failure's class. */
        final Map<String, Integer> retried = new ConcurrentHashMap<>();
        final List<String> refusals = java.util.Collections.synchronizedList(new ArrayList<>());
        private final Thread thread = new Thread(this, "rolling-upgrade-producer");

        Producer(int gateway, String key) {
            this.gateway = gateway;
            this.key = key;
        }

        @Override
        public void run() {
            for (int n = 1; running.get(); n++) {
                String id = "ev-" + n;
                String body = "{\"id\":\"" + id + "\",\"type\":\"tick\",\"data\":{\"n\":" + n + "}}";
                while (true) {
                    try {
                        HttpResponse<String> r = LoopbackHttp.send(http, "POST", gateway, "/v1/topics/" + TOPIC + "/events", key, body);
                        if (r.statusCode() == 201) {
                            acknowledged.put(id, JSON.readTree(r.body()).path("seq").asLong());
                            break;
                        }
                        // 503 while delivery or the registry restarts is what a producer retries; anything else is a fault.
                        if (r.statusCode() != 503 && r.statusCode() != 502 && r.statusCode() != 429) {
                            refusals.add(r.statusCode() + " " + r.body());
                            break;
                        }
                        retried.merge(r.statusCode() + " " + JSON.readTree(r.body()).path("detail").asString(), 1, Integer::sum);
                    } catch (IOException e) {
                        // The gateway is restarting: connection refused or cut.
                        retried.merge(e.getClass().getSimpleName(), 1, Integer::sum);
                    } catch (InterruptedException e) {
                        return;
                    }
                    retries.incrementAndGet();
                    sleep(100);
                }
                sleep(40);
            }
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

    @Test
    @Timeout(value = 12, unit = TimeUnit.MINUTES)
    void restartingEveryServiceInTurnLosesNothingAndEverySubscriberResumes(@TempDir Path dir) throws Exception {
        try (ServiceProcesses services = new ServiceProcesses(dir)) {
            services.startAll();
            int registry = services.port("registry");
            int gateway = services.port("gateway");
            HttpResponse<String> tenant = LoopbackHttp.send(http, "POST", registry, "/admin/v1/tenants", services.adminToken,
                    "{\"id\":\"acme\",\"name\":\"Acme\"}");
            assertThat(tenant.statusCode()).as(tenant.body()).isEqualTo(201);
            String clientSecret = JSON.readTree(tenant.body()).path("clientSecret").asString();
            String key = JSON.readTree(LoopbackHttp.send(http, "POST", registry, "/admin/v1/tenants/acme/keys", services.adminToken,
                    "{\"name\":\"backend\",\"scopes\":[\"publish\",\"subscribe\"]}").body()).path("key").asString();
            assertThat(LoopbackHttp.send(http, "PUT", registry, "/admin/v1/tenants/acme/topics/" + TOPIC, services.adminToken,
                    "{\"partitions\":1}").statusCode()).isEqualTo(201);

            List<ResumingSubscriber> subscribers = new ArrayList<>();
            for (int i = 0; i < SUBSCRIBERS; i++) {
                ResumingSubscriber s = new ResumingSubscriber(http, gateway,
                        ResumingSubscriber.jwt(clientSecret, "acme", "user-" + i, List.of(TOPIC)), TOPIC);
                subscribers.add(s);
                s.start();
            }
            Producer producer = new Producer(gateway, key);
            producer.start();
            try {
                awaitProgress(producer, subscribers, "before any restart");
                Map<String, String> report = new LinkedHashMap<>();
                for (String service : ServiceProcesses.SERVICES) {
                    int connectsBefore = subscribers.stream().mapToInt(s -> s.connects.get()).sum();
                    int resubscribesBefore = subscribers.stream().mapToInt(s -> s.resubscribes.get()).sum();
                    int retriesBefore = producer.retries.get();
                    producer.retried.clear();
                    long t0 = System.nanoTime();
                    // Well inside a pod's grace period: nothing (a live stream, a long poll) holds a service's shutdown.
                    services.stop(service, Duration.ofSeconds(15));
                    long stopped = System.nanoTime();
                    services.start(service);
                    services.awaitReady(service);
                    long ready = System.nanoTime();
                    awaitProgress(producer, subscribers, "after " + service + " restarted");
                    report.put(service, String.format(Locale.ROOT,
                            "stopped in %.1f s, ready %.1f s after its start; subscribers reconnected %d times and resubscribed %d"
                                    + " times; the producer retried %d times %s",
                            (stopped - t0) / 1e9, (ready - stopped) / 1e9,
                            subscribers.stream().mapToInt(s -> s.connects.get()).sum() - connectsBefore,
                            subscribers.stream().mapToInt(s -> s.resubscribes.get()).sum() - resubscribesBefore,
                            producer.retries.get() - retriesBefore, producer.retried));
                    if (service.equals("gateway")) {
                        assertThat(subscribers).as("every subscriber reconnected to the new gateway")
                                .allSatisfy(s -> assertThat(s.connects.get()).isGreaterThanOrEqualTo(2));
                    }
                }
                producer.stop();
                report.forEach((service, line) -> System.out.println("[rolling upgrade] " + service + ": " + line));

                assertThat(producer.refusals).as("publishes refused for good").isEmpty();
                List<JsonNode> log = readLog(gateway, key);
                long head = log.size();
                Set<String> ids = new HashSet<>();
                for (int i = 0; i < log.size(); i++) {
                    assertThat(log.get(i).path("seq").asLong()).as("seqs gap-free").isEqualTo(i + 1);
                    assertThat(ids.add(log.get(i).path("id").asString())).as("event %s stored once", log.get(i).path("id")).isTrue();
                }
                assertThat(ids).as("the log holds every acknowledged event and nothing else").isEqualTo(producer.acknowledged.keySet());
                await("every subscriber at the head, " + head).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                        .until(() -> subscribers.stream().allMatch(s -> s.last() == head));
                for (ResumingSubscriber s : subscribers) {
                    assertThat(s.faults).as("what a subscriber saw out of order").isEmpty();
                }
                System.out.printf(Locale.ROOT, "[rolling upgrade] %d events acknowledged, %d subscribers each saw all of them once%n",
                        head, subscribers.size());
                // The gateway reopened the topic's stream from delivery while delivery restarted: its JSON log line
                // about that names the tenant in a field of its own.
                assertThat(services.started().stream().filter(c -> c.service().equals("gateway-service"))
                        .flatMap(c -> c.output().lines())
                        .filter(line -> line.contains("upstream acme/" + TOPIC))
                        .map(JSON::readTree))
                        .as("the gateway's lines about acme's upstream")
                        .isNotEmpty()
                        .allSatisfy(line -> assertThat(line.path("tenant").asString()).as("%s", line).isEqualTo("acme"));
            } finally {
                producer.stop();
                subscribers.forEach(ResumingSubscriber::stop);
            }
        }
    }

    /** Until 25 more events are acknowledged and every subscriber has seen them: the path works again end to end. */
    private static void awaitProgress(Producer producer, List<ResumingSubscriber> subscribers, String when) {
        long target = producer.acknowledged.values().stream().mapToLong(Long::longValue).max().orElse(0) + 25;
        await("25 more events acknowledged and seen by every subscriber " + when).atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> subscribers.stream().allMatch(s -> s.last() >= target));
    }

    /** The whole topic, page by page. */
    private List<JsonNode> readLog(int gateway, String key) throws Exception {
        List<JsonNode> events = new ArrayList<>();
        long after = 0;
        while (true) {
            HttpResponse<String> page = LoopbackHttp.send(http, "GET", gateway,
                    "/v1/topics/" + TOPIC + "/events?after=" + after + "&limit=1000", key, null);
            assertThat(page.statusCode()).as(page.body()).isEqualTo(200);
            JsonNode body = JSON.readTree(page.body());
            body.path("events").forEach(events::add);
            if (body.path("events").isEmpty() || events.size() >= body.path("head").asLong()) {
                return events;
            }
            after = events.get(events.size() - 1).path("seq").asLong();
        }
    }
}
