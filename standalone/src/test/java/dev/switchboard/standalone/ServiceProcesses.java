package dev.switchboard.standalone;

import dev.switchboard.platform.database.PostgresUri;
import dev.switchboard.testsupport.TestDatabase;

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
import java.sql.SQLException;
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
 * The four services, each its own jar ({@code <service>/target/<service>-exec.jar}, what its image
 * runs) as a process of its own on a port of its own, given only the variables the README's
 * "Configuration" table says it reads, over a database of their own on the test server. A service
 * can be stopped as an orchestrator stops it (SIGTERM) and started again on the same port.
 * Failsafe runs after every module's {@code package}, so the jars exist.
 */
final class ServiceProcesses implements AutoCloseable {

    /** In the order they start: each after those it calls. */
    static final List<String> SERVICES = List.of("registry", "delivery", "workflow", "gateway");
    static final Duration START_TIMEOUT = Duration.ofMinutes(4);

    /** One process of a service, and the file its output goes to. */
    record Child(String service, Process process, Path log) {
        String output() {
            try {
                return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
            } catch (IOException e) {
                return "(could not read " + log + ")";
            }
        }
    }

    final String adminToken = "admin-" + UUID.randomUUID();
    final String serviceToken = "service-" + UUID.randomUUID();
    final String secretKey;
    private final Path root = RepositoryLayout.root();
    private final Path dir;
    private final String database;
    private final Map<String, Integer> ports = new LinkedHashMap<>();
    private final Map<String, Map<String, String>> envs = new LinkedHashMap<>();
    private final Map<String, Child> running = new LinkedHashMap<>();
    private final List<Child> started = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** Creates the database and chooses the ports; starts nothing yet. */
    ServiceProcesses(Path dir) throws IOException, SQLException {
        this.dir = dir;
        this.database = ("sbapart_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12)).toLowerCase(Locale.ROOT);
        try (Connection c = TestDatabase.get().openConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + database);
        }
        byte[] key = new byte[32];
        new java.security.SecureRandom().nextBytes(key);
        secretKey = Base64.getEncoder().encodeToString(key);
        for (String service : SERVICES) {
            ports.put(service, freePort());
        }
        String url = TestDatabase.get().uri().withDatabase(database).toUriString();
        String registryUrl = "http://127.0.0.1:" + ports.get("registry");
        String deliveryUrl = "http://127.0.0.1:" + ports.get("delivery");
        envs.put("registry", Map.of("REGISTRY_PORT", ports.get("registry").toString(), "SWITCHBOARD_DATABASE_URL", url,
                "SWITCHBOARD_ADMIN_TOKEN", adminToken, "SWITCHBOARD_SERVICE_TOKEN", serviceToken, "SWITCHBOARD_SECRET_KEY", secretKey));
        envs.put("delivery", Map.of("DELIVERY_PORT", ports.get("delivery").toString(), "SWITCHBOARD_DATABASE_URL", url,
                "SWITCHBOARD_SERVICE_TOKEN", serviceToken, "SWITCHBOARD_REGISTRY_URL", registryUrl));
        envs.put("workflow", Map.of("WORKFLOW_PORT", ports.get("workflow").toString(), "SWITCHBOARD_DATABASE_URL", url,
                "SWITCHBOARD_SERVICE_TOKEN", serviceToken, "SWITCHBOARD_DELIVERY_URL", deliveryUrl, "SWITCHBOARD_REGISTRY_URL", registryUrl));
        envs.put("gateway", Map.of("GATEWAY_PORT", ports.get("gateway").toString(), "SWITCHBOARD_SERVICE_TOKEN", serviceToken,
                "SWITCHBOARD_REGISTRY_URL", registryUrl, "SWITCHBOARD_DELIVERY_URL", deliveryUrl,
                "SWITCHBOARD_WORKFLOW_URL", "http://127.0.0.1:" + ports.get("workflow")));
    }

    /** From the next start of {@code service} on, its {@code variable} is {@code value} (another service's URL through a proxy, say). */
    void override(String service, String variable, String value) {
        Map<String, String> env = new LinkedHashMap<>(envs.get(service));
        env.put(variable, value);
        envs.put(service, env);
    }

    /** The database URL the services use, with another port: the same server reached through a proxy. */
    String databaseUrl(int port) {
        PostgresUri uri = TestDatabase.get().uri().withDatabase(database);
        return new PostgresUri(uri.host(), port, uri.database(), uri.user(), uri.password()).toUriString();
    }

    int port(String service) {
        return ports.get(service);
    }

    /** Every process started so far, in order, the stopped ones too. */
    List<Child> started() {
        return List.copyOf(started);
    }

    /** Starts every service, then waits until each is ready. */
    void startAll() throws IOException {
        for (String service : SERVICES) {
            start(service);
        }
        for (String service : SERVICES) {
            awaitReady(service);
        }
    }

    /** {@code java -jar <service>-exec.jar} with only its variables (and the JVM's own) set, on loopback. */
    Child start(String service) throws IOException {
        String module = service + "-service";
        Path jar = root.resolve(module).resolve("target").resolve(module + "-exec.jar");
        assertThat(jar).as("the %s jar (built by package)", module).exists();
        Path log = dir.resolve(module + "-" + started.size() + ".log");
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx384m", "-XX:TieredStopAtLevel=1", "-jar", jar.toString())
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("SWITCHBOARD_") || k.endsWith("_PORT") || k.startsWith("SERVER_"));
        builder.environment().putAll(envs.get(service));
        builder.environment().put("SWITCHBOARD_LOG_FORMAT", "json");
        // A service alone listens on every interface (what its container needs); a test binds loopback only.
        builder.environment().put("SERVER_ADDRESS", "127.0.0.1");
        Child child = new Child(module, builder.start(), log);
        running.put(service, child);
        started.add(child);
        return child;
    }

    /** Until the service's readiness probe answers UP; fails at once if its process exits. */
    void awaitReady(String service) {
        Child child = running.get(service);
        await(child.service() + " ready").atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(250))
                .failFast(child.service() + " exited:\n" + child.output(), () -> !child.process().isAlive())
                .until(() -> ready(port(service)));
    }

    /** SIGTERM, as an orchestrator stops a pod, and waits up to {@code within} for the process to exit on its own. */
    void stop(String service, Duration within) throws InterruptedException {
        Child child = running.remove(service);
        child.process().destroy();
        assertThat(child.process().waitFor(within.toMillis(), TimeUnit.MILLISECONDS))
                .as("%s exits within %s of SIGTERM; its last lines:%n%s", child.service(), within, tail(child.output(), 30)).isTrue();
    }

    /** SIGKILL: no shutdown hooks, no last words, as a node that dies or an OOM kill ends a process. */
    void kill(String service) throws InterruptedException {
        Child child = running.remove(service);
        child.process().destroyForcibly();
        assertThat(child.process().waitFor(30, TimeUnit.SECONDS)).as("%s dies on SIGKILL", child.service()).isTrue();
    }

    private static String tail(String text, int lines) {
        List<String> all = text.lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
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

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** Stops what still runs (SIGTERM, then SIGKILL after 60 s) and drops the database. */
    @Override
    public void close() throws Exception {
        for (Child child : running.values()) {
            child.process().destroy();
        }
        for (Child child : running.values()) {
            if (!child.process().waitFor(60, TimeUnit.SECONDS)) {
                child.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        running.clear();
        try (Connection c = TestDatabase.get().openConnection(); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
        }
    }
}
