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

            History history = new History();
            List<ResumingSubscriber> subscribers = new ArrayList<>();
            for (int i = 0; i < SUBSCRIBERS; i++) {
                ResumingSubscriber s = new ResumingSubscriber(http, gateway,
                        ResumingSubscriber.jwt(clientSecret, "acme", "user-" + i, List.of(TOPIC)), TOPIC, history, "user-" + i);
                subscribers.add(s);
                s.start();
            }
            RetryingProducer producer = new RetryingProducer(http, gateway, key, TOPIC, 40, history);
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
                List<JsonNode> log = LoopbackHttp.readTopic(http, gateway, key, TOPIC);
                long head = log.size();
                Set<String> ids = new HashSet<>();
                for (int i = 0; i < log.size(); i++) {
                    assertThat(log.get(i).path("seq").asLong()).as("seqs gap-free").isEqualTo(i + 1);
                    assertThat(ids.add(log.get(i).path("id").asString())).as("event %s stored once", log.get(i).path("id")).isTrue();
                }
                assertThat(ids).as("the log holds every acknowledged event and nothing else").isEqualTo(history.acknowledged().keySet());
                await("every subscriber at the head, " + head).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                        .until(() -> subscribers.stream().allMatch(s -> s.last() == head));
                for (ResumingSubscriber s : subscribers) {
                    assertThat(s.faults).as("what a subscriber saw out of order").isEmpty();
                }
                History.Report checked = history.check();
                System.out.println("[rolling upgrade] history: " + checked.summary());
                assertThat(checked.faulty()).as("subscribers that lost, repeated or reordered events").isEmpty();
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
    static void awaitProgress(RetryingProducer producer, List<ResumingSubscriber> subscribers, String when) {
        long target = producer.highestAcknowledged() + 25;
        await("25 more events acknowledged and seen by every subscriber " + when).atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> subscribers.stream().allMatch(s -> s.last() >= target));
    }
}
