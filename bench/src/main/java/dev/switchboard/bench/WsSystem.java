package dev.switchboard.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
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
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * One system under test of {@code bench/ws.sh}, run as a child process on a free loopback port
 * with its output in the work folder: (a) Node {@code ws}, (b) the Go hub, (c) {@code nats-server},
 * (d) Switchboard's standalone jar.
 */
abstract class WsSystem implements AutoCloseable {

    static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

    final String key;
    final String name;
    protected final Path workDir;
    protected Process process;

    WsSystem(String key, String name, Path workDir) {
        this.key = key;
        this.name = name;
        this.workDir = workDir;
    }

    /** Starts it and waits until it takes connections. */
    abstract void start() throws Exception;

    /** Where subscribers and the publisher connect. */
    abstract String url();

    abstract WsWire wire();

    /** Samples the server's CPU: its process, and for Switchboard its PostgreSQL backends. */
    CpuSampler cpu() {
        return new CpuSampler(pid(), null);
    }

    /** What the CPU figures count, for the report. */
    String cpuCounted() {
        return "the `" + name + "` process";
    }

    long pid() {
        return process.pid();
    }

    /** Live heap in bytes after a full GC, when the runtime can say. */
    OptionalLong heapBytes() {
        return OptionalLong.empty();
    }

    /** How {@link #heapBytes()} is measured. */
    String heapMethod() {
        return "–";
    }

    /** Resident set size of the server process, bytes (VmRSS). */
    long rssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D+", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone
        }
        return -1;
    }

    protected Process spawn(List<String> command, String logName) {
        try {
            return new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
                    .redirectOutput(workDir.resolve(logName).toFile()).start();
        } catch (IOException e) {
            throw new UncheckedIOException("Could not start " + command, e);
        }
    }

    protected void awaitPort(int port) throws InterruptedException {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited with " + process.exitValue() + " during start-up; see " + workDir);
            }
            try (java.net.Socket s = new java.net.Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(name + " did not listen on " + port + " within " + READY_TIMEOUT);
                }
                Thread.sleep(100);
            }
        }
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(15, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    /** {"heapBytes":n} from the peer's own /stats (which forces a GC first); HTTP/1.1, as an h2c upgrade would reach Node's WebSocket server. */
    protected static OptionalLong statsHeap(int port) {
        try {
            HttpResponse<String> r = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/stats"))
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            Matcher m = Pattern.compile("\"heapBytes\":(\\d+)").matcher(r.body());
            return m.find() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
        } catch (IOException e) {
            return OptionalLong.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return OptionalLong.empty();
        }
    }

    /** (a) and (b): a broadcast server of our own that takes the payload as is and reports its heap on {@code GET /stats}. */
    abstract static class BroadcastPeer extends WsSystem {

        private final String heapMethod;
        private int port;

        BroadcastPeer(String key, String name, Path workDir, String heapMethod) {
            super(key, name, workDir);
            this.heapMethod = heapMethod;
        }

        abstract List<String> command(int port);

        @Override
        void start() throws Exception {
            port = Platform.freePorts(1)[0];
            process = spawn(command(port), key + ".log");
            awaitPort(port);
        }

        @Override
        String url() {
            return "ws://127.0.0.1:" + port + "/";
        }

        @Override
        WsWire wire() {
            return new WsWire.Broadcast();
        }

        @Override
        OptionalLong heapBytes() {
            return statsHeap(port);
        }

        @Override
        String heapMethod() {
            return heapMethod;
        }
    }

    /** (a) A minimal Node {@code ws} broadcast server (bench/peers/node/server.js). */
    static final class Node extends BroadcastPeer {

        private final Path dir;

        Node(Path workDir, Path dir) {
            super("node", "Node ws", workDir, "`process.memoryUsage().heapUsed` after `global.gc()`");
            this.dir = dir;
        }

        @Override
        List<String> command(int port) {
            return List.of("node", "--expose-gc", dir.resolve("server.js").toString(), "127.0.0.1", Integer.toString(port));
        }

        @Override
        String cpuCounted() {
            return "the `node` process";
        }
    }

    /** (b) A minimal Go hub on gorilla/websocket (bench/peers/go), built by ws.sh. */
    static final class GoHub extends BroadcastPeer {

        private final Path binary;

        GoHub(Path workDir, Path binary) {
            super("go", "Go gorilla hub", workDir, "`runtime.MemStats.HeapAlloc` after `runtime.GC()`");
            this.binary = binary;
        }

        @Override
        List<String> command(int port) {
            return List.of(binary.toString(), "127.0.0.1:" + port);
        }

        @Override
        String cpuCounted() {
            return "the hub process";
        }
    }

    /** (c) {@code nats-server} with its WebSocket listener, on its own ports and config. */
    static final class Nats extends WsSystem {

        private int wsPort;

        Nats(Path workDir) {
            super("nats", "NATS", workDir);
        }

        @Override
        void start() throws Exception {
            int[] ports = Platform.freePorts(2);
            wsPort = ports[1];
            Path config = workDir.resolve("nats.conf");
            Files.writeString(config, """
                    # bench/ws.sh: loopback only, no persistence, no auth
                    listen: "127.0.0.1:%d"
                    websocket {
                      listen: "127.0.0.1:%d"
                      no_tls: true
                    }
                    """.formatted(ports[0], ports[1]));
            process = spawn(List.of("nats-server", "-c", config.toString()), "nats.log");
            awaitPort(wsPort);
        }

        @Override
        String url() {
            return "ws://127.0.0.1:" + wsPort + "/";
        }

        @Override
        WsWire wire() {
            return new WsWire.Nats();
        }

        @Override
        String cpuCounted() {
            return "the `nats-server` process";
        }
    }

    /**
     * (d) Switchboard: the standalone jar (registry, delivery, gateway in one JVM) on a database of
     * its own, persisting every event; a tenant with room for the connections, topic
     * {@value WsWire#TOPIC}, and a client JWT signed with the tenant's client secret.
     */
    static final class Switchboard extends WsSystem {

        private final Path jar;
        private final PgUrl server;
        private final List<String> javaOptions;
        private final String runId;
        private PgUrl database;
        private Platform platform;
        private Connection monitor;
        private String token;
        private String publishKey;
        /** The text of the last {@code GC.class_histogram}, for {@link #heapGrowth}. */
        private String lastHistogram = "";
        private final boolean restPublish;
        String pgVersion = "?";

        Switchboard(Path workDir, Path jar, PgUrl server, List<String> javaOptions, String runId, boolean restPublish) {
            super("switchboard", "Switchboard", workDir);
            this.restPublish = restPublish;
            this.jar = jar;
            this.server = server;
            this.javaOptions = javaOptions;
            this.runId = runId;
        }

        @Override
        void start() throws Exception {
            database = server.withDatabase("sbwsbench_" + runId);
            try (Connection c = server.connect(); Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE " + database.database());
                try (var rs = s.executeQuery("SHOW server_version")) {
                    rs.next();
                    pgVersion = rs.getString(1);
                }
            }
            Files.writeString(workDir.resolve("database"), database.database());
            Path platformDir = Files.createDirectories(workDir.resolve("switchboard"));
            platform = Platform.start(jar, database, platformDir, null, javaOptions, java.util.HexFormat.of().formatHex(random(24)));
            platform.awaitReady();
            Api api = new Api(platform);
            String secret = api.createTenant("bench", "{\"maxConnections\":100000,\"publishPerSecond\":100000,\"burst\":200000}");
            api.declareTopic("bench", WsWire.TOPIC);
            publishKey = api.createKey("bench", "ws-bench-publish", "publish");
            token = jwt(secret, "bench", List.of(WsWire.TOPIC), Duration.ofHours(12));
            monitor = database.connect();
        }

        @Override
        long pid() {
            return platform.pid();
        }

        @Override
        String url() {
            return "ws://127.0.0.1:" + platform.gatewayPort + "/v1/ws";
        }

        @Override
        WsWire wire() {
            return new WsWire.Switchboard(token, restPublish
                    ? new WsWire.Rest(platform.gateway(), "/v1/topics/" + WsWire.TOPIC + "/events", publishKey, LoadClient.SINGLE) : null);
        }

        @Override
        CpuSampler cpu() {
            return new CpuSampler(pid(), monitor);
        }

        @Override
        String cpuCounted() {
            return "the standalone JVM (gateway, delivery, registry) plus the PostgreSQL backends connected to its database "
                    + "(not PostgreSQL's shared WAL writer and checkpointer)";
        }

        /** Live heap after a full GC: {@code jcmd <pid> GC.class_histogram} forces one and sums what is left. */
        @Override
        OptionalLong heapBytes() {
            try {
                Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                        Long.toString(pid()), "GC.class_histogram").redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                p.waitFor(60, TimeUnit.SECONDS);
                lastHistogram = out;
                Matcher m = Pattern.compile("(?m)^Total\\s+\\d+\\s+(\\d+)").matcher(out);
                return m.find() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
            } catch (IOException e) {
                return OptionalLong.empty();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return OptionalLong.empty();
            }
        }

        @Override
        String heapMethod() {
            return "live bytes of `jcmd <pid> GC.class_histogram` (after the full GC it forces)";
        }

        String lastHistogram() {
            return lastHistogram;
        }

        /** The classes whose live bytes grew most between two class histograms, per connection. */
        static String heapGrowth(String before, String after, int connections, int top) {
            Map<String, Long> a = histogram(before);
            Map<String, Long> b = histogram(after);
            StringBuilder text = new StringBuilder();
            b.entrySet().stream()
                    .map(e -> Map.entry(e.getKey(), e.getValue() - a.getOrDefault(e.getKey(), 0L)))
                    .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                    .limit(top)
                    .forEach(e -> text.append(String.format(java.util.Locale.ROOT, "`%s` %.0f B, ", e.getKey(), (double) e.getValue() / connections)));
            return text.length() == 0 ? "–" : text.substring(0, text.length() - 2);
        }

        private static Map<String, Long> histogram(String text) {
            Map<String, Long> bytes = new java.util.HashMap<>();
            Matcher m = Pattern.compile("(?m)^\\s*\\d+:\\s+\\d+\\s+(\\d+)\\s+(\\S+)").matcher(text);
            while (m.find()) {
                bytes.merge(m.group(2), Long.parseLong(m.group(1)), Long::sum);
            }
            return bytes;
        }

        /** The hops of a publish, as the platform's own timers see them (name → {count, sum seconds}; null entries when unreadable). */
        Map<String, double[]> publishTimers() {
            Api api = new Api(platform);
            Map<String, double[]> timers = new LinkedHashMap<>();
            timers.put("gateway POST", api.timer(platform.gateway(), "http_server_requests", "uri=\"/v1/topics/{topic}/events\"",
                    "method=\"POST\"", "status=\"201\""));
            timers.put("delivery POST", api.timer(platform.delivery(), "http_server_requests",
                    "uri=\"/internal/v1/tenants/{tenant}/topics/{topic}/events\"", "method=\"POST\"", "status=\"201\""));
            timers.put("delivery arrival→commit", api.timer(platform.delivery(), "switchboard_delivery_publish", "outcome=\"accepted\""));
            return timers;
        }

        /**
         * The live path's stage histograms ({@code switchboard.live.stage}): the gateway's stages
         * from the gateway, delivery-service's from delivery-service.
         */
        Map<String, java.util.TreeMap<Double, Double>> liveStages() {
            return new Api(platform).liveStages();
        }

        /** How the publisher publishes, for the report. */
        String publishing() {
            return restPublish
                    ? "a backend publishing each event with `POST /v1/topics/" + WsWire.TOPIC + "/events` (`application/cloudevents+json`, "
                    + "API key with scope `publish`, open loop over up to " + WsLoad.REST_CONNECTIONS + " keep-alive connections; sent = answered 201, i.e. committed)"
                    : "`publish` frames on one `/v1/ws` socket authenticated with the client JWT (as a browser publishes)";
        }

        @Override
        public void close() {
            if (monitor != null) {
                try {
                    monitor.close();
                } catch (SQLException ignored) {
                    // closing anyway
                }
            }
            if (platform != null) {
                platform.stop();
            }
            if (database != null) {
                try (Connection c = server.connect(); Statement s = c.createStatement()) {
                    s.execute("DROP DATABASE IF EXISTS " + database.database() + " WITH (FORCE)");
                    database = null;
                } catch (SQLException e) {
                    System.err.println("Could not drop database " + database.database() + ": " + e.getMessage());
                }
            }
        }

        /** An HS256 JWT (PROTOCOL.md "Auth"): the HMAC key is the UTF-8 bytes of the tenant's client secret. */
        static String jwt(String secret, String tenant, List<String> topics, Duration life) throws Exception {
            Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
            String list = "[\"" + String.join("\",\"", topics) + "\"]";
            String header = b64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
            String claims = b64.encodeToString(("{\"sub\":\"bench\",\"tid\":\"" + tenant + "\",\"exp\":"
                    + (System.currentTimeMillis() / 1000 + life.toSeconds()) + ",\"subscribe\":" + list + ",\"publish\":" + list + "}")
                    .getBytes(StandardCharsets.UTF_8));
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            String signature = b64.encodeToString(mac.doFinal((header + "." + claims).getBytes(StandardCharsets.US_ASCII)));
            return header + "." + claims + "." + signature;
        }

        private static byte[] random(int n) {
            byte[] bytes = new byte[n];
            new java.security.SecureRandom().nextBytes(bytes);
            return bytes;
        }
    }
}
