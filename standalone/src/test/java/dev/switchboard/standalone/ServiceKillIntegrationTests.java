package dev.switchboard.standalone;

import dev.switchboard.testsupport.History;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

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
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue #16's faults under load: each service is its own process ({@link ServiceProcesses}), and each
 * in turn is killed with SIGKILL — no shutdown, no drain, no last words — while a producer publishes
 * without pause through the gateway (retrying what was not answered, with the same event id) and 100
 * WebSocket subscribers follow the topic and resume by themselves. The killed service is started
 * again at once, as an orchestrator replaces a dead pod. Every event the producer tried and every
 * event every subscriber was handed goes into a {@link History}; the bar is 0 acknowledged events
 * lost, 0 duplicated and 0 reordered for every subscriber, and a log that holds each acknowledged
 * event exactly once. How long each service took to be back, end to end, is printed.
 */
class ServiceKillIntegrationTests {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int SUBSCRIBERS = 100;
    private static final String TOPIC = "orders";

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    @Timeout(value = 12, unit = TimeUnit.MINUTES)
    void killingEveryServiceInTurnLosesNothingAcknowledgedAndNoSubscriberSeesAnEventTwiceOrOutOfOrder(@TempDir Path dir)
            throws Exception {
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

            History history = new History();
            List<ResumingSubscriber> subscribers = new ArrayList<>();
            for (int i = 0; i < SUBSCRIBERS; i++) {
                ResumingSubscriber s = new ResumingSubscriber(http, gateway,
                        ResumingSubscriber.jwt(clientSecret, "acme", "user-" + i, List.of(TOPIC)), TOPIC, history, "user-" + i);
                subscribers.add(s);
                s.start();
            }
            RetryingProducer producer = new RetryingProducer(http, gateway, key, TOPIC, 20, history);
            producer.start();
            try {
                RollingUpgradeIntegrationTests.awaitProgress(producer, subscribers, "before any kill");
                Map<String, String> report = new LinkedHashMap<>();
                for (String service : List.of("gateway", "delivery", "registry", "workflow")) {
                    int retriesBefore = producer.retries.get();
                    producer.retried.clear();
                    long killed = System.nanoTime();
                    services.kill(service);
                    services.start(service);
                    services.awaitReady(service);
                    long ready = System.nanoTime();
                    RollingUpgradeIntegrationTests.awaitProgress(producer, subscribers, "after " + service + " was killed");
                    long flowing = System.nanoTime();
                    report.put(service, String.format(Locale.ROOT,
                            "ready %.1f s after the kill; 25 more events had reached every subscriber %.1f s after it "
                                    + "(looked for once it was ready); the producer retried %d times %s",
                            (ready - killed) / 1e9, (flowing - killed) / 1e9, producer.retries.get() - retriesBefore, producer.retried));
                }
                producer.stop();
                report.forEach((service, line) -> System.out.println("[kill -9] " + service + ": " + line));

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
                System.out.println("[kill -9] history: " + checked.summary());
                assertThat(checked.acknowledged()).as("events acknowledged").isGreaterThan(100);
                assertThat(checked.faulty()).as("subscribers that lost, repeated or reordered events").isEmpty();
                for (ResumingSubscriber s : subscribers) {
                    assertThat(s.faults).as("what a subscriber saw that the protocol does not allow").isEmpty();
                }
            } finally {
                producer.stop();
                subscribers.forEach(ResumingSubscriber::stop);
            }
        }
    }
}
