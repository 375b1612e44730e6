package dev.switchboard.workflow.run;

import dev.switchboard.platform.database.PostgresUri;
import dev.switchboard.testsupport.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A replica killed mid-run: workflow-service's own jar as a real process streams a model's answer,
 * is killed with {@code kill -9} (SIGKILL: no shutdown, no last words), and a second process takes
 * the step over when the lease runs out — the run completes exactly once, the first attempt's
 * tokens retracted, the second's answer the run's.
 */
class ReplicaTakeoverIntegrationTests {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String TOKEN = "takeover-service-token";
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private record Replica(Process process, int port, Path log) {
        String output() {
            try {
                return Files.readString(log);
            } catch (IOException e) {
                return "(no log: " + e + ")";
            }
        }
    }

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void aKilledReplicasStepIsTakenOverAndTheRunCompletesOnce(@TempDir Path dir) throws Exception {
        String name = ("sbtakeover_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12)).toLowerCase(Locale.ROOT);
        PostgresUri database = TestDatabase.get().uri().withDatabase(name);
        try (Connection c = TestDatabase.get().openConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        String tenant = "acme";
        Replica first = null;
        Replica second = null;
        try (FakeDelivery delivery = new FakeDelivery(); FakeOpenAi model = new FakeOpenAi()) {
            delivery.declare(tenant, "answers");
            String[] first60 = new String[60];
            Arrays.fill(first60, "slow ");
            model.script("takeover", new FakeOpenAi.Script(List.of(first60), -1, false, Duration.ofMillis(100)),
                    FakeOpenAi.Script.answer(Duration.ofMillis(5), "second ", "replica ", "answer"));
            Map<String, String> env = Map.of(
                    "SWITCHBOARD_DATABASE_URL", database.toUriString(),
                    "SWITCHBOARD_SERVICE_TOKEN", TOKEN,
                    "SWITCHBOARD_DELIVERY_URL", delivery.url(),
                    "SWITCHBOARD_WORKFLOW_PROVIDERS_FAKE_BASEURL", model.baseUrl(),
                    "SWITCHBOARD_WORKFLOW_RUNS_LEASE", "1500ms",
                    "SWITCHBOARD_WORKFLOW_RUNS_POLLINTERVAL", "50ms");
            first = start(dir, "first", env);
            await(ready(first), Boolean::booleanValue, Duration.ofMinutes(2), "the first replica to be ready", first);

            send("PUT", first.port(), "/internal/v1/tenants/acme/pipelines/slow", "application/yaml", """
                    output: answers
                    steps:
                      - {id: ask, type: prompt, template: "{{data.q}}"}
                      - {id: draft, type: model, input: ask, provider: fake, model: m, retry: {attempts: 3, backoff: PT0.1S}}
                    """, 201);
            String run = JSON.readTree(send("POST", first.port(), "/internal/v1/tenants/acme/pipelines/slow/runs", "application/json",
                    "{\"data\":{\"q\":\"takeover test\"}}", 201)).path("run").asString();
            await(() -> tokens(delivery, tenant, run, 1), n -> n >= 5, Duration.ofSeconds(30), "the first replica's tokens", first);

            first.process().destroyForcibly(); // SIGKILL
            assertThat(first.process().waitFor(10, TimeUnit.SECONDS)).isTrue();
            int streamedByFirst = tokens(delivery, tenant, run, 1);
            assertThat(streamedByFirst).isLessThan(60);

            second = start(dir, "second", env);
            Replica survivor = second;
            await(ready(second), Boolean::booleanValue, Duration.ofMinutes(2), "the second replica to be ready", second);
            JsonNode view = await(() -> view(survivor, run), v -> !v.path("status").asString().equals("running"),
                    Duration.ofSeconds(60), "the run to end on the second replica", second);
            assertThat(view.path("status").asString()).as("%s", view).isEqualTo("completed");
            assertThat(view.path("answer").asString()).isEqualTo("second replica answer");
            JsonNode attempts = view.path("steps").get(1).path("attempts");
            assertThat(attempts).hasSize(2);
            assertThat(attempts.get(0).path("outcome").asString()).isEqualTo("lease_expired");
            assertThat(attempts.get(1).path("outcome").asString()).isEqualTo("completed");
            assertThat(attempts.get(1).path("worker").asString()).isNotEqualTo(attempts.get(0).path("worker").asString());

            List<JsonNode> events = await(() -> delivery.events(tenant, "answers"),
                    e -> !e.isEmpty() && e.get(e.size() - 1).path("type").asString().equals("ai.completed"), Duration.ofSeconds(10),
                    "ai.completed", second);
            assertThat(events.stream().filter(e -> e.path("type").asString().equals("ai.completed"))).hasSize(1);
            int retraction = -1;
            for (int i = 0; i < events.size(); i++) {
                if (events.get(i).path("type").asString().equals("ai.retracted")) {
                    retraction = i;
                }
            }
            assertThat(retraction).as("an ai.retracted of attempt 1").isPositive();
            assertThat(events.get(retraction).path("data").path("attempt").asInt()).isEqualTo(1);
            List<JsonNode> after = events.subList(retraction + 1, events.size());
            assertThat(after.stream().filter(e -> e.path("type").asString().equals("ai.token"))
                    .map(e -> e.path("data").path("attempt").asInt())).containsOnly(2);
            assertThat(tokens(delivery, tenant, run, 1)).as("nothing of attempt 1 after the kill").isEqualTo(streamedByFirst);
        } finally {
            for (Replica r : new Replica[]{first, second}) {
                if (r != null) {
                    r.process().destroy();
                    if (!r.process().waitFor(30, TimeUnit.SECONDS)) {
                        r.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    }
                }
            }
            try (Connection c = TestDatabase.get().openConnection(); Statement s = c.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            }
        }
    }

    private static int tokens(FakeDelivery delivery, String tenant, String run, int attempt) {
        return (int) delivery.events(tenant, "answers").stream()
                .filter(e -> e.path("type").asString().equals("ai.token") && e.path("correlationid").asString().equals(run)
                        && e.path("data").path("attempt").asInt() == attempt)
                .count();
    }

    private JsonNode view(Replica replica, String run) {
        try {
            return JSON.readTree(send("GET", replica.port(), "/internal/v1/tenants/acme/runs/" + run, null, null, 200));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private Supplier<Boolean> ready(Replica replica) {
        return () -> {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + replica.port()
                        + "/actuator/health/readiness")).timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
                return r.statusCode() == 200;
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        };
    }

    private static <T> T await(Supplier<T> read, Predicate<T> done, Duration within, String what, Replica replica) {
        long deadline = System.nanoTime() + within.toNanos();
        T value = read.get();
        while (!done.test(value) && System.nanoTime() < deadline) {
            assertThat(replica.process().isAlive()).as("the replica exited:\n%s", replica.output()).isTrue();
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            value = read.get();
        }
        assertThat(done.test(value)).as("waited %s for %s; last: %s", within, what, value).isTrue();
        return value;
    }

    private String send(String method, int port, String path, String type, String body, int status) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + TOKEN);
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", type).method(method, HttpRequest.BodyPublishers.ofString(body));
        }
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("%s %s: %s", method, path, response.body()).isEqualTo(status);
        return response.body();
    }

    /** workflow-service's own jar ({@code target/workflow-service-exec.jar}, built by package) as a process on loopback. */
    private static Replica start(Path dir, String name, Map<String, String> env) throws IOException {
        Path jar = Path.of("target", "workflow-service-exec.jar").toAbsolutePath();
        assertThat(jar).as("the workflow-service jar (built by package)").exists();
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        Path log = dir.resolve(name + ".log");
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:TieredStopAtLevel=1", "-jar", jar.toString())
                .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("SWITCHBOARD_") || k.endsWith("_PORT") || k.startsWith("SERVER_"));
        builder.environment().putAll(env);
        builder.environment().put("WORKFLOW_PORT", Integer.toString(port));
        builder.environment().put("SERVER_ADDRESS", "127.0.0.1");
        return new Replica(builder.start(), port, log);
    }
}
