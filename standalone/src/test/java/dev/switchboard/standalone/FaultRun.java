package dev.switchboard.standalone;

import dev.switchboard.testsupport.History;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The load every fault test of issue #16 runs under, on a platform of separate processes: tenant
 * {@code acme} with one single-partition topic, a {@link RetryingProducer} publishing through the
 * gateway, and resuming WebSocket subscribers, all recording into one {@link History}. {@link #fault}
 * runs one fault and measures how long until events reach every subscriber again; {@link #verify}
 * ends the run with the checker and the log.
 */
final class FaultRun implements AutoCloseable {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    static final String TOPIC = "orders";

    /** A fault: done to the platform, then (maybe) undone; {@link #fault} waits for events to flow again. */
    interface Fault {
        void run() throws Exception;
    }

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String label;
    private final int gateway;
    private final String key;
    final History history = new History();
    final List<ResumingSubscriber> subscribers = new ArrayList<>();
    final RetryingProducer producer;
    private final List<String> report = new ArrayList<>();

    /** Sets the tenant up on the running {@code services} and starts the load. */
    FaultRun(ServiceProcesses services, String label, int subscriberCount, long pauseMs) throws Exception {
        this.label = label;
        int registry = services.port("registry");
        this.gateway = services.port("gateway");
        HttpResponse<String> tenant = LoopbackHttp.send(http, "POST", registry, "/admin/v1/tenants", services.adminToken,
                "{\"id\":\"acme\",\"name\":\"Acme\"}");
        assertThat(tenant.statusCode()).as(tenant.body()).isEqualTo(201);
        String clientSecret = JSON.readTree(tenant.body()).path("clientSecret").asString();
        this.key = JSON.readTree(LoopbackHttp.send(http, "POST", registry, "/admin/v1/tenants/acme/keys", services.adminToken,
                "{\"name\":\"backend\",\"scopes\":[\"publish\",\"subscribe\"]}").body()).path("key").asString();
        assertThat(LoopbackHttp.send(http, "PUT", registry, "/admin/v1/tenants/acme/topics/" + TOPIC, services.adminToken,
                "{\"partitions\":1}").statusCode()).isEqualTo(201);
        for (int i = 0; i < subscriberCount; i++) {
            ResumingSubscriber s = new ResumingSubscriber(http, gateway,
                    ResumingSubscriber.jwt(clientSecret, "acme", "user-" + i, List.of(TOPIC)), TOPIC, history, "user-" + i);
            subscribers.add(s);
            s.start();
        }
        producer = new RetryingProducer(http, gateway, key, TOPIC, pauseMs, history);
        producer.start();
        RollingUpgradeIntegrationTests.awaitProgress(producer, subscribers, "before any fault");
    }

    /** Runs {@code fault}, then waits until 25 more events have reached every subscriber; reports how long that took. */
    void fault(String name, Fault fault) throws Exception {
        int retriesBefore = producer.retries.get();
        producer.retried.clear();
        long start = System.nanoTime();
        fault.run();
        long done = System.nanoTime();
        RollingUpgradeIntegrationTests.awaitProgress(producer, subscribers, "after " + name);
        long flowing = System.nanoTime();
        report.add(String.format(Locale.ROOT, "%s: the fault took %.1f s; 25 more events had reached every subscriber %.1f s "
                        + "after it began; the producer retried %d times %s", name, (done - start) / 1e9, (flowing - start) / 1e9,
                producer.retries.get() - retriesBefore, producer.retried));
    }

    /**
     * Stops the load and checks the run: nothing refused for good, the log gap-free with each event once and every
     * acknowledged one in it, and per subscriber 0 lost, duplicated or reordered.
     */
    void verify() throws Exception {
        producer.stop();
        report.forEach(line -> System.out.println("[" + label + "] " + line));
        System.out.println("[" + label + "] retries answered as duplicates of a stored attempt: " + producer.duplicates.get());
        assertThat(producer.refusals).as("publishes refused for good").isEmpty();
        List<JsonNode> log = LoopbackHttp.readTopic(http, gateway, key, TOPIC);
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < log.size(); i++) {
            assertThat(log.get(i).path("seq").asLong()).as("seqs gap-free").isEqualTo(i + 1);
            assertThat(ids.add(log.get(i).path("id").asString())).as("event %s stored once", log.get(i).path("id")).isTrue();
        }
        assertThat(ids).as("every acknowledged event is in the log").containsAll(history.acknowledged().keySet());
        long head = log.size();
        await("every subscriber at the head, " + head).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> subscribers.stream().allMatch(s -> s.last() == head));
        History.Report checked = history.check();
        System.out.println("[" + label + "] history: " + checked.summary());
        assertThat(checked.acknowledged()).as("events acknowledged").isGreaterThan(100);
        assertThat(checked.faulty()).as("subscribers that lost, repeated or reordered events").isEmpty();
        for (ResumingSubscriber s : subscribers) {
            assertThat(s.faults).as("what a subscriber saw that the protocol does not allow").isEmpty();
        }
    }

    @Override
    public void close() throws InterruptedException {
        producer.stop();
        subscribers.forEach(ResumingSubscriber::stop);
    }
}
