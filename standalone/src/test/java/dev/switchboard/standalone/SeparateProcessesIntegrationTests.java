package dev.switchboard.standalone;

import dev.switchboard.platform.database.PostgresUri;
import dev.switchboard.testsupport.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Each service's own jar ({@code <service>/target/<service>-exec.jar}, what its image runs) as a
 * process of its own, given only the variables the README's "Configuration" table says it reads:
 * all four become ready and serve the README's flow together — tenant, key, topic, publish through
 * the gateway, read back. Failsafe runs after every module's {@code package}, so the jars exist.
 */
class SeparateProcessesIntegrationTests {

    static final Duration START_TIMEOUT = Duration.ofMinutes(4);
    static final tools.jackson.databind.json.JsonMapper JSON = tools.jackson.databind.json.JsonMapper.builder().build();

    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    record Child(String service, Process process, Path log) {
        String output() {
            try {
                return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
            } catch (IOException e) {
                return "(could not read " + log + ")";
            }
        }
    }

    @Test
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    void everyServiceRunsAloneWithTheDocumentedVariables(@TempDir Path dir) throws Exception {
        Path root = RepositoryLayout.root();
        String name = ("sbapart_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12)).toLowerCase(Locale.ROOT);
        PostgresUri database = TestDatabase.get().uri().withDatabase(name);
        try (Connection c = TestDatabase.get().openConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        String adminToken = "admin-" + UUID.randomUUID();
        String serviceToken = "service-" + UUID.randomUUID();
        byte[] key = new byte[32];
        new java.security.SecureRandom().nextBytes(key);
        String secretKey = Base64.getEncoder().encodeToString(key);
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (String service : List.of("registry", "delivery", "workflow", "gateway")) {
            ports.put(service, freePort());
        }
        String registryUrl = "http://127.0.0.1:" + ports.get("registry");
        Map<String, Map<String, String>> envs = new LinkedHashMap<>();
        envs.put("registry", Map.of("REGISTRY_PORT", ports.get("registry").toString(), "SWITCHBOARD_DATABASE_URL", database.toUriString(),
                "SWITCHBOARD_ADMIN_TOKEN", adminToken, "SWITCHBOARD_SERVICE_TOKEN", serviceToken, "SWITCHBOARD_SECRET_KEY", secretKey));
        envs.put("delivery", Map.of("DELIVERY_PORT", ports.get("delivery").toString(), "SWITCHBOARD_DATABASE_URL", database.toUriString(),
                "SWITCHBOARD_SERVICE_TOKEN", serviceToken, "SWITCHBOARD_REGISTRY_URL", registryUrl));
        envs.put("workflow", Map.of("WORKFLOW_PORT", ports.get("workflow").toString(), "SWITCHBOARD_DATABASE_URL", database.toUriString(),
                "SWITCHBOARD_SERVICE_TOKEN", serviceToken, "SWITCHBOARD_DELIVERY_URL", "http://127.0.0.1:" + ports.get("delivery"),
                "SWITCHBOARD_REGISTRY_URL", registryUrl));
        envs.put("gateway", Map.of("GATEWAY_PORT", ports.get("gateway").toString(), "SWITCHBOARD_SERVICE_TOKEN", serviceToken,
                "SWITCHBOARD_REGISTRY_URL", registryUrl, "SWITCHBOARD_DELIVERY_URL", "http://127.0.0.1:" + ports.get("delivery"),
                "SWITCHBOARD_WORKFLOW_URL", "http://127.0.0.1:" + ports.get("workflow")));
        List<Child> children = new ArrayList<>();
        try {
            for (Map.Entry<String, Map<String, String>> e : envs.entrySet()) {
                children.add(start(root, dir, e.getKey() + "-service", e.getValue()));
            }
            for (Child child : children) {
                int port = ports.get(child.service().replace("-service", ""));
                await(child.service() + " ready").atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(500))
                        .failFast(child.service() + " exited:\n" + child.output(), () -> !child.process().isAlive())
                        .until(() -> ready(port));
            }
            int registry = ports.get("registry");
            int gateway = ports.get("gateway");
            assertThat(send("POST", registry, "/admin/v1/tenants", adminToken, "{\"id\":\"acme\",\"name\":\"Acme\"}").statusCode()).isEqualTo(201);
            String apiKey = send("POST", registry, "/admin/v1/tenants/acme/keys", adminToken,
                    "{\"name\":\"backend\",\"scopes\":[\"publish\",\"subscribe\"]}").body().replaceAll(".*\"key\":\"([^\"]+)\".*", "$1");
            assertThat(send("PUT", registry, "/admin/v1/tenants/acme/topics/orders", adminToken, "{}").statusCode()).isEqualTo(201);
            HttpResponse<String> published = send("POST", gateway, "/v1/topics/orders/events", apiKey,
                    "{\"id\":\"order-1\",\"type\":\"order.created\",\"data\":{\"total\":42}}");
            assertThat(published.statusCode()).as(published.body()).isEqualTo(201);
            HttpResponse<String> history = send("GET", gateway, "/v1/topics/orders/events?after=0", apiKey, null);
            assertThat(history.body()).contains("\"id\":\"order-1\"", "\"total\":42", "\"head\":1");
            // A group poll reaches delivery's other half; the pipelines list reaches workflow-service.
            HttpResponse<String> polled = send("POST", gateway, "/v1/topics/orders/groups/billing/poll", apiKey, "{\"max\":10}");
            assertThat(polled.body()).contains("\"id\":\"order-1\"", "\"attempt\":1");
            String adminKey = send("POST", registry, "/admin/v1/tenants/acme/keys", adminToken,
                    "{\"name\":\"ops\",\"scopes\":[\"admin\"]}").body().replaceAll(".*\"key\":\"([^\"]+)\".*", "$1");
            assertThat(send("GET", gateway, "/v1/pipelines", adminKey, null).statusCode()).isEqualTo(200);
            // A run crosses all four: gateway → workflow → delivery (its answer published) → PostgreSQL, read back by the gateway.
            HttpResponse<String> saved = LoopbackHttp.send(http, "PUT", gateway, "/v1/pipelines/echo", adminKey,
                    "{\"output\":\"orders\",\"steps\":[{\"id\":\"ask\",\"type\":\"prompt\",\"template\":\"{{data.q}}\"},"
                            + "{\"id\":\"say\",\"type\":\"model\",\"input\":\"ask\",\"provider\":\"echo\",\"model\":\"e\"}]}");
            assertThat(saved.statusCode()).as(saved.body()).isEqualTo(201);
            HttpResponse<String> ran = send("POST", gateway, "/v1/pipelines/echo/runs", apiKey, "{\"data\":{\"q\":\"four processes\"}}");
            assertThat(ran.statusCode()).as(ran.body()).isEqualTo(201);
            await("the run's answer").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .until(() -> send("GET", gateway, "/v1/topics/orders/events?after=1", apiKey, null).body()
                            .contains("\"type\":\"ai.completed\""));
            assertThat(send("GET", gateway, "/v1/topics/orders/events?after=1", apiKey, null).body()).contains("\"answer\":\"four processes\"");
            // No secret in any log, and no service fell back to a generated password of its own.
            for (Child child : children) {
                assertThat(child.output()).as(child.service()).doesNotContain(adminToken, serviceToken, secretKey, "Using generated security password");
            }
            // SWITCHBOARD_LOG_FORMAT=json (what the images set): every line one ECS object naming its service.
            for (Child child : children) {
                List<String> lines = child.output().lines().filter(l -> !l.isBlank()).toList();
                assertThat(lines).as(child.service() + " logged").isNotEmpty();
                for (String line : lines) {
                    tools.jackson.databind.JsonNode json = JSON.readTree(line);
                    assertThat(json.path("service").path("name").asString()).as(line).isEqualTo(child.service());
                    assertThat(json.has("@timestamp") && json.path("log").has("level") && json.has("message")).as(line).isTrue();
                }
            }
        } finally {
            for (Child child : children) {
                child.process().destroy();
            }
            for (Child child : children) {
                if (!child.process().waitFor(60, TimeUnit.SECONDS)) {
                    child.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
            try (Connection c = TestDatabase.get().openConnection(); Statement s = c.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            }
        }
    }

    /** {@code java -jar <service>-exec.jar} with only {@code env} (and the JVM's own variables) set, on loopback. */
    private static Child start(Path root, Path dir, String service, Map<String, String> env) throws IOException {
        Path jar = root.resolve(service).resolve("target").resolve(service + "-exec.jar");
        assertThat(jar).as("the %s jar (built by package)", service).exists();
        Path log = dir.resolve(service + ".log");
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx384m", "-XX:TieredStopAtLevel=1", "-jar", jar.toString())
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("SWITCHBOARD_") || k.endsWith("_PORT") || k.startsWith("SERVER_"));
        builder.environment().putAll(env);
        builder.environment().put("SWITCHBOARD_LOG_FORMAT", "json");
        // A service alone listens on every interface (what its container needs); a test binds loopback only.
        builder.environment().put("SERVER_ADDRESS", "127.0.0.1");
        return new Child(service, builder.start(), log);
    }

    private boolean ready(int port) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/health/readiness"))
                    .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 && r.body().contains("\"UP\"");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private HttpResponse<String> send(String method, int port, String path, String bearer, String json) throws Exception {
        return LoopbackHttp.send(http, method, port, path, bearer, json);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
