package dev.switchboard.bench;

import io.netty.buffer.Unpooled;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code bench/durable-streams.sh}, issue #14: Durable Streams appends with one live SSE reader, on
 * Switchboard (the standalone platform on the machine's PostgreSQL, every append committed before
 * its answer) beside the protocol's reference server {@code @durable-streams/server} 0.3.7 in file
 * mode (each append fsynced: durable) and in memory mode (the floor), with the same client in the
 * same run. Writers append 100-byte JSON messages in a closed loop (the next when the last is
 * answered); each message carries its send time, and the reader, following the stream over SSE
 * from {@code now}, takes the time it arrives: append → read latency.
 */
final class DurableStreamsBenchMain {

    static final String USAGE = """
            bench/durable-streams.sh — Durable Streams appends and append→read latency (issue #14)

              SWITCHBOARD_BENCH_DATABASE_URL     PostgreSQL server (default postgresql://postgres@127.0.0.1:5432/postgres)
              SWITCHBOARD_BENCH_PLATFORM_JAR     default standalone/target/switchboard-standalone.jar
              SWITCHBOARD_BENCH_PLATFORM_JAVA_OPTS  JVM options of the platform process
              SWITCHBOARD_DSBENCH_WRITERS        writer counts (default 1,16)
              SWITCHBOARD_DSBENCH_SECONDS        measured seconds per system and writer count (default 15)
              SWITCHBOARD_DSBENCH_WARMUP_SECONDS warm-up of every system before the measured rounds (default 60 for
                                                 Switchboard, a third of it for each reference server)
              SWITCHBOARD_DSBENCH_PEER_DIR       the reference server's npm folder (default bench/peers/durable-streams)
              SWITCHBOARD_DSBENCH_DOCS           folder of the dated report (default docs/benchmarks; - only prints)
            """;

    private static final String TENANT = "dsbench";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Map<String, String> env;
    private final List<String> lines = new ArrayList<>();

    private DurableStreamsBenchMain(Map<String, String> env) {
        this.env = env;
    }

    static void main(String[] args) throws Exception {
        if (args.length > 0 && (args[0].equals("-h") || args[0].equals("--help"))) {
            System.out.print(USAGE);
            return;
        }
        new DurableStreamsBenchMain(System.getenv()).run();
    }

    private int num(String name, int fallback) {
        String v = env.get(name);
        return v == null || v.isBlank() ? fallback : Integer.parseInt(v.trim());
    }

    private void say(String line) {
        System.out.println(line);
        lines.add(line);
    }

    /** A server under test: where streams live and the credential it wants (null: none). */
    record Target(String name, String base, String authorization) {
    }

    /** A measured round: appends answered (and read back), seconds, and the append→read latency. */
    record Round(long appends, long read, double seconds, Latency latency) {
        double perSecond() {
            return appends / seconds;
        }
    }

    private void run() throws Exception {
        ZonedDateTime started = ZonedDateTime.now(ZoneOffset.UTC);
        PgUrl server = PgUrl.parse(env.getOrDefault("SWITCHBOARD_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"));
        Optional<Path> docs = DatedReports.folder("SWITCHBOARD_DSBENCH_DOCS", env.get("SWITCHBOARD_DSBENCH_DOCS"));
        Path jar = Path.of(env.getOrDefault("SWITCHBOARD_BENCH_PLATFORM_JAR", "standalone/target/switchboard-standalone.jar"));
        Path peer = Path.of(env.getOrDefault("SWITCHBOARD_DSBENCH_PEER_DIR", "bench/peers/durable-streams")).toAbsolutePath();
        List<Integer> writers = List.of(env.getOrDefault("SWITCHBOARD_DSBENCH_WRITERS", "1,16").split(",")).stream()
                .map(String::trim).map(Integer::parseInt).toList();
        int seconds = num("SWITCHBOARD_DSBENCH_SECONDS", 15);
        int warmup = num("SWITCHBOARD_DSBENCH_WARMUP_SECONDS", 60);
        String runId = HexFormat.of().formatHex(BackpressureBenchMain.random(4));
        PgUrl database = server.withDatabase("sbdsbench_" + runId);
        Path work = Files.createTempDirectory("sbdsbench");
        String settings;
        try (Connection c = server.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + database.database());
            settings = BackpressureBenchMain.show(s, "server_version") + ", fsync=" + BackpressureBenchMain.show(s, "fsync")
                    + ", synchronous_commit=" + BackpressureBenchMain.show(s, "synchronous_commit");
        }
        Platform platform = null;
        Peer file = null;
        Peer memory = null;
        HttpClient http = HttpClient.create(ConnectionProvider.builder("dsbench").maxConnections(256).build());
        try {
            List<String> javaOptions = List.of(env.getOrDefault("SWITCHBOARD_BENCH_PLATFORM_JAVA_OPTS", "").split("\\s+")).stream()
                    .filter(o -> !o.isEmpty()).toList();
            platform = Platform.start(jar, database, work, null, javaOptions, HexFormat.of().formatHex(BackpressureBenchMain.random(24)));
            platform.awaitReady();
            Api api = new Api(platform);
            api.createTenant(TENANT, "{\"publishPerSecond\":1000000,\"burst\":10000000}");
            String key = api.createKey(TENANT, "bench", "publish", "subscribe");
            Target switchboard = new Target("Switchboard", platform.gateway(), "Bearer " + key);
            file = startPeer(peer, work.resolve("reference-data"), work.resolve("reference-file.log"));
            memory = startPeer(peer, null, work.resolve("reference-memory.log"));
            Target fileTarget = new Target("reference server, file mode (durable)", file.baseUrl(), null);
            Target memoryTarget = new Target("reference server, memory mode (the floor)", memory.baseUrl(), null);

            say("Run of " + DatedReports.shown(started) + ": commit " + env.getOrDefault("SWITCHBOARD_BENCH_COMMIT", "?")
                    + "; " + Machine.cores() + " cores (" + Machine.cpuModel() + "), " + Machine.memory() + ", load average "
                    + Machine.loadAverage() + "; PostgreSQL " + settings + " on the same machine; Node " + nodeVersion() + ".");
            say("");
            int top = writers.get(writers.size() - 1);
            Round cold = round(http, switchboard, top, seconds, "cold");
            warm(http, switchboard, top, warmup);
            warm(http, fileTarget, top, warmup / 3);
            warm(http, memoryTarget, top, warmup / 3);
            List<Target> targets = List.of(switchboard, fileTarget, memoryTarget);
            Map<String, Round> results = new java.util.LinkedHashMap<>();
            for (int w : writers) {
                for (Target t : targets) {
                    results.put(t.name() + "|" + w, round(http, t, w, seconds, "warm"));
                }
            }
            report(writers, seconds, warmup, top, cold, targets, results);
        } finally {
            stop(file);
            stop(memory);
            if (platform != null) {
                platform.stop();
            }
            try (Connection c = server.connect(); Statement s = c.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + database.database() + " WITH (FORCE)");
            }
        }
        if (docs.isPresent()) {
            Path report = DatedReports.write(docs.get(), "durable-streams", started, "Durable Streams benchmark " + DatedReports.shown(started),
                    env.getOrDefault("SWITCHBOARD_BENCH_COMMAND", "bench/durable-streams.sh"), String.join("\n", lines));
            System.out.println("\nKept as " + report);
        }
    }

    private void warm(HttpClient http, Target target, int writers, int seconds) {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < until) {
            round(http, target, writers, (int) Math.min(15, Math.max(1, TimeUnit.NANOSECONDS.toSeconds(until - System.nanoTime()))), null);
        }
    }

    /** One stream: a reader from its tail, {@code writers} closed-loop writers for {@code seconds}, then every message read back. */
    private Round round(HttpClient http, Target target, int writers, int seconds, String label) {
        String url = target.base() + "/v1/stream/bench/" + writers + "-" + HexFormat.of().formatHex(BackpressureBenchMain.random(6));
        HttpClient client = target.authorization() == null ? http : http.headers(h -> h.set("Authorization", target.authorization()));
        int created = client.headers(h -> h.set("Content-Type", "application/json")).put().uri(url)
                .send(Mono.just(Unpooled.wrappedBuffer("[]".getBytes(StandardCharsets.UTF_8))))
                .responseSingle((r, body) -> body.then(Mono.just(r.status().code()))).block(Duration.ofSeconds(30));
        if (created != 201) {
            throw new IllegalStateException(target.name() + ": creating " + url + " answered " + created);
        }
        Latency latency = new Latency();
        AtomicLong read = new AtomicLong();
        AtomicReference<String> offset = new AtomicReference<>("now");
        // The reader: SSE from the tail, reconnecting from its last offset whenever the server ends the answer.
        reactor.core.Disposable reader = Flux.defer(() -> sse(client, url, offset.get()))
                .repeat()
                .subscribe(event -> {
                    if (event.name().equals("data")) {
                        long now = System.nanoTime();
                        for (JsonNode m : JSON.readTree(event.data())) {
                            latency.recordNanos(now - m.path("t").asLong());
                            read.incrementAndGet();
                        }
                    } else if (event.name().equals("control")) {
                        String next = JSON.readTree(event.data()).path("streamNextOffset").asString("");
                        if (!next.isEmpty()) {
                            offset.set(next);
                        }
                    }
                });
        sleep(300);
        long start = System.nanoTime();
        long deadline = start + TimeUnit.SECONDS.toNanos(seconds);
        String pad = "x".repeat(60);
        Long appends = Flux.range(0, writers)
                .flatMap(w -> Mono.defer(() -> client.headers(h -> h.set("Content-Type", "application/json")).post().uri(url)
                                        .send(Mono.just(Unpooled.wrappedBuffer(("{\"t\":" + System.nanoTime() + ",\"w\":" + w + ",\"p\":\"" + pad + "\"}")
                                                .getBytes(StandardCharsets.UTF_8))))
                                        .responseSingle((r, body) -> body.then(Mono.just(r.status().code()))))
                                .repeat(() -> System.nanoTime() < deadline)
                                .filter(code -> code / 100 == 2)
                                .count(),
                        writers)
                .reduce(0L, Long::sum)
                .block(Duration.ofSeconds(seconds + 60));
        double elapsed = (System.nanoTime() - start) / 1e9;
        long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (read.get() < appends && System.nanoTime() < waitUntil) {
            sleep(50);
        }
        reader.dispose();
        Round round = new Round(appends, read.get(), elapsed, latency);
        if (label != null) {
            System.out.printf(Locale.ROOT, "[dsbench] %s, %d writers, %s: %,.0f appends/s, read %d of %d, p50 %.1f ms, p99 %.1f ms%n",
                    target.name(), writers, label, round.perSecond(), round.read(), round.appends(), latency.millis(50), latency.millis(99));
        }
        return round;
    }

    /** An SSE event: its name and its data lines joined. */
    record Event(String name, String data) {
    }

    /** The SSE answer's events, from {@code offset}: lines assembled across chunks, data lines joined, dispatched on a blank line. */
    private static Flux<Event> sse(HttpClient client, String url, String offset) {
        return Flux.defer(() -> {
            StringBuilder partial = new StringBuilder();
            String[] name = {"message"};
            StringBuilder data = new StringBuilder();
            return client.get().uri(url + "?offset=" + offset + "&live=sse")
                    .responseContent().asString(StandardCharsets.UTF_8)
                    .concatMapIterable(chunk -> {
                        List<Event> events = new ArrayList<>();
                        partial.append(chunk);
                        int newline;
                        while ((newline = partial.indexOf("\n")) >= 0) {
                            String line = partial.substring(0, newline).replace("\r", "");
                            partial.delete(0, newline + 1);
                            if (line.isEmpty()) {
                                if (!data.isEmpty()) {
                                    events.add(new Event(name[0], data.toString()));
                                }
                                name[0] = "message";
                                data.setLength(0);
                            } else if (line.startsWith("event:")) {
                                name[0] = line.substring(6).trim();
                            } else if (line.startsWith("data:")) {
                                data.append(line.substring(line.startsWith("data: ") ? 6 : 5));
                            }
                        }
                        return events;
                    })
                    .onErrorResume(e -> Mono.delay(Duration.ofMillis(100)).then(Mono.empty()));
        });
    }

    private void report(List<Integer> writers, int seconds, int warmup, int top, Round cold, List<Target> targets, Map<String, Round> results) {
        say("Each round: a new JSON stream, one SSE reader from its tail, N writers appending 100-byte messages in a closed loop for "
                + seconds + " s; every message is read back. Warm rounds after " + warmup + " s of warm-up for Switchboard ("
                + warmup / 3 + " s for each reference server).");
        say("");
        say("| system | writers | appends/s | append→read p50 / p99 | read back |");
        say("|---|---:|---:|---:|---:|");
        say(String.format(Locale.ROOT, "| Switchboard, first round after start (cold) | %d | %,.0f | %.1f / %.1f ms | %d of %d |",
                top, cold.perSecond(), cold.latency().millis(50), cold.latency().millis(99), cold.read(), cold.appends()));
        for (int w : writers) {
            for (Target t : targets) {
                Round r = results.get(t.name() + "|" + w);
                say(String.format(Locale.ROOT, "| %s | %d | %,.0f | %.1f / %.1f ms | %d of %d |", t.name(), w, r.perSecond(),
                        r.latency().millis(50), r.latency().millis(99), r.read(), r.appends()));
            }
        }
        Round ours = results.get(targets.get(0).name() + "|" + top);
        Round file = results.get(targets.get(1).name() + "|" + top);
        Round memory = results.get(targets.get(2).name() + "|" + top);
        say("");
        say(String.format(Locale.ROOT, "At %d writers: Switchboard ÷ file mode appends/s **%.2f×** (target ≥ 10×), p99 %.1f vs %.1f ms "
                        + "(target lower); Switchboard p99 ÷ memory mode p99 **%.2f×** (target ≤ 3×).", top,
                ours.perSecond() / file.perSecond(), ours.latency().millis(99), file.latency().millis(99),
                ours.latency().millis(99) / memory.latency().millis(99)));
    }

    /** A reference server process and the file its output goes to. */
    record Peer(Process process, Path log) {
        /** The URL it prints once listening. */
        String baseUrl() throws Exception {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < until) {
                for (String line : Files.readAllLines(log)) {
                    if (line.startsWith("DS_BASE_URL=")) {
                        return line.substring("DS_BASE_URL=".length()).trim();
                    }
                }
                if (!process.isAlive()) {
                    throw new IllegalStateException("the reference server exited: " + Files.readString(log));
                }
                sleep(100);
            }
            throw new IllegalStateException("the reference server did not start in 30 s: " + log);
        }
    }

    private static Peer startPeer(Path peer, Path dataDir, Path log) throws Exception {
        List<String> command = new ArrayList<>(List.of("node", peer.resolve("server.mjs").toString()));
        if (dataDir != null) {
            Files.createDirectories(dataDir);
            command.add(dataDir.toString());
        }
        return new Peer(new ProcessBuilder(command).directory(peer.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start(), log);
    }

    private static String nodeVersion() {
        try {
            Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                return r.readLine();
            }
        } catch (Exception e) {
            return "?";
        }
    }

    private static void stop(Peer peer) {
        if (peer != null) {
            Process process = peer.process();
            process.destroy();
            try {
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process.destroyForcibly();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
