package dev.switchboard.bench;

import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The benchmark of issue #11, run by {@code bench/backpressure.sh}, against a platform and a
 * database of its own:
 * <ol>
 *   <li>Noisy neighbour: tenant B publishes 50 events/s (open loop) and watches its topic over a
 *       WebSocket; its publish→receive latency is measured with tenant A idle, then with A publishing
 *       at ten times its quota, then idle again, in one run.</li>
 *   <li>Consumer-group throughput: {@link GroupThroughput}, beside NATS JetStream and a bare
 *       PostgreSQL {@code FOR UPDATE SKIP LOCKED} queue.</li>
 * </ol>
 */
public final class BackpressureBenchMain {

    static final String USAGE = """
            Environment of bench/backpressure.sh (all optional):
              SWITCHBOARD_BENCH_DATABASE_URL     PostgreSQL server (default postgresql://postgres@127.0.0.1:5432/postgres);
                                                 a database sbbpbench_<random> is created there and dropped at the end
              SWITCHBOARD_BENCH_PLATFORM_JAR     default standalone/target/switchboard-standalone.jar
              SWITCHBOARD_BENCH_PLATFORM_JAVA_OPTS JVM options of the platform process (for example a profiler's)
              SWITCHBOARD_BPBENCH_PARTS          which parts, default neighbour,groups
              SWITCHBOARD_BPBENCH_WARMUP_SECONDS the platform's warm-up before anything is measured (B alone, A flooding,
                                                 batched publishes; its first minute is reported as "cold"), default 90
              SWITCHBOARD_BPBENCH_SECONDS        measured seconds of each noisy-neighbour phase, default 30
              SWITCHBOARD_BPBENCH_QUOTA          tenant A's quota per second (burst the same), default 200; it floods at 10x
              SWITCHBOARD_BPBENCH_B_RATE         tenant B's publishes per second, default 50
              SWITCHBOARD_BPBENCH_EVENTS         events each consumer-group system consumes, default 100000
              SWITCHBOARD_BPBENCH_CONSUMERS      consumers, default 4; SWITCHBOARD_BPBENCH_BATCH events per poll, default 100
              SWITCHBOARD_BPBENCH_GROUP_WARMUP_SECONDS rounds of consumer-group work after the first (cold) round and
                                                 before the warm ones, default 120
              SWITCHBOARD_BPBENCH_NATS_SERVER    default /usr/sbin/nats-server
              SWITCHBOARD_BPBENCH_DOCS           folder the report is kept in, default docs/benchmarks; "-" to only print
            """;

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Map<String, String> env;
    private final List<String> lines = new ArrayList<>();

    private BackpressureBenchMain(Map<String, String> env) {
        this.env = env;
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && (args[0].equals("-h") || args[0].equals("--help"))) {
            System.out.print(USAGE);
            return;
        }
        new BackpressureBenchMain(System.getenv()).run();
        System.exit(0);
    }

    String env(String name, String fallback) {
        String v = env.get(name);
        return v == null || v.isBlank() ? fallback : v.trim();
    }

    int num(String name, int fallback) {
        String v = env.get(name);
        return v == null || v.isBlank() ? fallback : Integer.parseInt(v.trim());
    }

    void say(String line) {
        System.out.println(line);
        lines.add(line);
    }

    private void run() throws Exception {
        ZonedDateTime started = ZonedDateTime.now(ZoneOffset.UTC);
        PgUrl server = PgUrl.parse(env.getOrDefault("SWITCHBOARD_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"));
        Optional<Path> docs = DatedReports.folder("SWITCHBOARD_BPBENCH_DOCS", env.get("SWITCHBOARD_BPBENCH_DOCS"));
        Path jar = Path.of(env.getOrDefault("SWITCHBOARD_BENCH_PLATFORM_JAR", "standalone/target/switchboard-standalone.jar"));
        List<String> parts = List.of(env.getOrDefault("SWITCHBOARD_BPBENCH_PARTS", "neighbour,groups").split(","));
        String runId = HexFormat.of().formatHex(random(4));
        PgUrl database = server.withDatabase("sbbpbench_" + runId);
        Path work = Files.createTempDirectory("sbbpbench");
        String settings;
        try (Connection c = server.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + database.database());
            settings = show(s, "server_version") + ", fsync=" + show(s, "fsync") + ", synchronous_commit=" + show(s, "synchronous_commit");
        }
        Platform platform = null;
        try {
            List<String> javaOptions = Arrays.stream(env("SWITCHBOARD_BENCH_PLATFORM_JAVA_OPTS", "").split("\\s+"))
                    .filter(o -> !o.isEmpty()).toList();
            platform = Platform.start(jar, database, work, null, javaOptions, HexFormat.of().formatHex(random(24)));
            platform.awaitReady();
            say("Run of " + DatedReports.shown(started) + ": commit " + env.getOrDefault("SWITCHBOARD_BENCH_COMMIT", "?")
                    + "; " + Machine.cores() + " cores (" + Machine.cpuModel() + "), " + Machine.memory() + ", load average "
                    + Machine.loadAverage() + "; PostgreSQL " + settings + " on the same machine.");
            say("");
            if (parts.contains("neighbour")) {
                new NoisyNeighbour(this, platform).run();
            }
            if (parts.contains("groups")) {
                new GroupThroughput(this, platform, database, work).run();
            }
        } finally {
            if (platform != null) {
                platform.stop();
            }
            try (Connection c = server.connect(); Statement s = c.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + database.database() + " WITH (FORCE)");
            }
        }
        if (docs.isPresent()) {
            Path file = DatedReports.write(docs.get(), "backpressure", started, "Backpressure benchmark " + DatedReports.shown(started),
                    env.getOrDefault("SWITCHBOARD_BENCH_COMMAND", "bench/backpressure.sh"), String.join("\n", lines));
            System.out.println("\nKept as " + file);
        }
    }

    static String show(Statement s, String setting) throws Exception {
        try (ResultSet rs = s.executeQuery("SHOW " + setting)) {
            rs.next();
            return rs.getString(1);
        }
    }

    static byte[] random(int n) {
        byte[] b = new byte[n];
        new SecureRandom().nextBytes(b);
        return b;
    }

    static String ms(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.1f ms", v);
    }

    /** Part 1: tenant B's publish→receive latency with its neighbour idle and flooding. */
    static final class NoisyNeighbour {
        private final BackpressureBenchMain bench;
        private final Platform platform;

        NoisyNeighbour(BackpressureBenchMain bench, Platform platform) {
            this.bench = bench;
            this.platform = platform;
        }

        /** One phase's figures; {@code stages}: p50 and p99 (ms) of each live-path stage over the phase. */
        record Phase(String name, Latency latency, long sent, long received, long refused, long floodSent, long floodAccepted,
                     long floodRefused, long floodOther, Map<String, double[]> stages) {
        }

        void run() throws Exception {
            Api api = new Api(platform);
            int quota = bench.num("SWITCHBOARD_BPBENCH_QUOTA", 200);
            int rate = bench.num("SWITCHBOARD_BPBENCH_B_RATE", 50);
            Duration phase = Duration.ofSeconds(bench.num("SWITCHBOARD_BPBENCH_SECONDS", 30));
            Duration warmup = Duration.ofSeconds(bench.num("SWITCHBOARD_BPBENCH_WARMUP_SECONDS", 90));
            String secretB = api.createTenant("quiet", "{\"publishPerSecond\":1000,\"burst\":2000}");
            api.declareTopic("quiet", "nn.quiet");
            String keyB = api.createKey("quiet", "bench-b", "publish");
            api.createTenant("noisy", "{\"publishPerSecond\":" + quota + ",\"burst\":" + quota + "}");
            api.declareTopic("noisy", "nn.noisy");
            String keyA = api.createKey("noisy", "bench-a", "publish");
            String token = WsSystem.Switchboard.jwt(secretB, "quiet", List.of("nn.quiet"), Duration.ofHours(2));

            Map<Long, Long> due = new ConcurrentHashMap<>();
            AtomicLong receivedTotal = new AtomicLong();
            Latency[] current = {new Latency()};
            Sinks.Many<String> out = Sinks.many().unicast().onBackpressureBuffer();
            Disposable socket = HttpClient.create(ConnectionProvider.newConnection())
                    .websocket().uri("ws://127.0.0.1:" + platform.gatewayPort + "/v1/ws")
                    .handle((in, o) -> Mono.when(o.sendString(out.asFlux()).then(),
                            in.receive().asString().doOnNext(text -> {
                                long now = System.nanoTime();
                                JsonNode f = JSON.readTree(text);
                                if (f.path("op").asString().equals("event")) {
                                    Long at = due.remove(f.path("event").path("data").path("i").asLong());
                                    if (at != null) {
                                        current[0].recordNanos(now - at);
                                        receivedTotal.incrementAndGet();
                                    }
                                }
                            }).then()))
                    .subscribe();
            out.tryEmitNext("{\"op\":\"connect\",\"id\":1,\"token\":\"" + token + "\"}");
            out.tryEmitNext("{\"op\":\"subscribe\",\"id\":2,\"topic\":\"nn.quiet\"}");
            Thread.sleep(1000);

            try (LoadClient b = new LoadClient("bench-b", platform.gateway(), keyB, 64);
                 LoadClient a = new LoadClient("bench-a", platform.gateway(), keyA, 256)) {
                AtomicLong index = new AtomicLong();
                // Cold: the platform's first minutes, B alone then A flooding, as a fresh platform meets them.
                List<Phase> cold = new ArrayList<>();
                cold.add(phase("cold: B alone", b, null, rate, 0, warmup.dividedBy(3), index, due, current, receivedTotal));
                cold.add(phase("cold: A flooding", b, a, rate, 10 * quota, warmup.dividedBy(3), index, due, current, receivedTotal));
                cold.add(phase("cold: B alone again", b, null, rate, 0, warmup.dividedBy(3), index, due, current, receivedTotal));
                List<Phase> warm = new ArrayList<>();
                warm.add(phase("B alone", b, null, rate, 0, phase, index, due, current, receivedTotal));
                // A within its quota: the cost of A's accepted events alone, without a refused request.
                warm.add(phase("A at its quota", b, a, rate, quota, phase, index, due, current, receivedTotal));
                warm.add(phase("A flooding at 10x its quota", b, a, rate, 10 * quota, phase, index, due, current, receivedTotal));
                warm.add(phase("B alone again", b, null, rate, 0, phase, index, due, current, receivedTotal));
                report(quota, rate, phase, warmup, cold, warm);
            } finally {
                socket.dispose();
            }
        }

        /** One phase: B at {@code rate}/s, open loop, and (if {@code a} is given) A at {@code aRate}/s, open loop. */
        private Phase phase(String name, LoadClient b, LoadClient a, int rate, int aRate, Duration length, AtomicLong index,
                            Map<Long, Long> due, Latency[] current, AtomicLong receivedTotal) throws Exception {
            Latency latency = new Latency();
            current[0] = latency;
            long receivedBefore = receivedTotal.get();
            Api api = new Api(platform);
            Map<String, java.util.TreeMap<Double, Double>> stagesBefore = api.liveStages();
            AtomicLong refused = new AtomicLong();
            AtomicLong floodAccepted = new AtomicLong();
            AtomicLong floodRefused = new AtomicLong();
            AtomicLong floodOther = new AtomicLong();
            long start = System.nanoTime() + 5_000_000L;
            long end = start + length.toNanos();
            long sent = 0;
            long floodSent = 0;
            double bInterval = 1e9 / rate;
            double aInterval = 1e9 / Math.max(1, aRate);
            long nextB = start;
            long nextA = start;
            String path = "/v1/topics/nn.quiet/events";
            while (true) {
                long now = System.nanoTime();
                if (now >= end) {
                    break;
                }
                if (now >= nextB) {
                    long i = index.incrementAndGet();
                    due.put(i, nextB);
                    sent++;
                    // Detached on purpose: an open loop sends at its due times, whatever the replies are doing.
                    b.post(path, LoadClient.SINGLE, ("{\"specversion\":\"1.0\",\"type\":\"b\",\"source\":\"/bench\",\"id\":\"b-" + i
                                    + "-" + start + "\",\"data\":{\"i\":" + i + "}}").getBytes())
                            .subscribe(r -> {
                                if (r.status() != 201) {
                                    refused.incrementAndGet();
                                }
                            }, e -> refused.incrementAndGet());
                    nextB = start + (long) (sent * bInterval);
                }
                if (a != null && now >= nextA) {
                    floodSent++;
                    a.post("/v1/topics/nn.noisy/events", LoadClient.SINGLE,
                                    "{\"specversion\":\"1.0\",\"type\":\"a\",\"source\":\"/bench\",\"data\":1}".getBytes())
                            .subscribe(r -> (r.status() == 201 ? floodAccepted : r.status() == 429 ? floodRefused : floodOther).incrementAndGet(),
                                    e -> floodOther.incrementAndGet());
                    nextA = start + (long) (floodSent * aInterval);
                }
                long wake = Math.min(nextB, a == null ? Long.MAX_VALUE : nextA);
                long sleep = wake - System.nanoTime();
                if (sleep > 200_000) {
                    Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
                } else if (sleep > 0) {
                    Thread.onSpinWait();
                }
            }
            // B's last events arrive; A's last replies come back.
            long drain = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (receivedTotal.get() - receivedBefore + refused.get() < sent && System.nanoTime() < drain) {
                Thread.sleep(20);
            }
            Map<String, double[]> stages = new java.util.LinkedHashMap<>();
            api.liveStages().forEach((stage, after) -> stages.put(stage, new double[]{
                    Api.percentileMillis(stagesBefore.get(stage), after, 50), Api.percentileMillis(stagesBefore.get(stage), after, 99)}));
            Phase p = new Phase(name, latency, sent, receivedTotal.get() - receivedBefore, refused.get(), floodSent,
                    floodAccepted.get(), floodRefused.get(), floodOther.get(), stages);
            System.out.printf(Locale.ROOT, "[neighbour] %s: B sent %d, received %d, refused %d, p50 %s p99 %s; A sent %d, accepted %d, refused %d%n",
                    name, p.sent, p.received, p.refused, ms(latency.millis(50)), ms(latency.millis(99)), p.floodSent, p.floodAccepted,
                    p.floodRefused);
            due.clear();
            return p;
        }

        private void report(int quota, int rate, Duration phase, Duration warmup, List<Phase> cold, List<Phase> warm) {
            bench.say("## Noisy neighbour");
            bench.say("");
            bench.say("Tenant B publishes " + rate + " events/s (open loop, `POST /v1/topics/nn.quiet/events`, latency from each"
                    + " event's due time) and receives them on a WebSocket; tenant A's quota is " + quota + "/s (burst " + quota
                    + ") and it floods at " + (10 * quota) + " requests/s, open loop (one warm phase has it publish at its quota"
                    + " instead, the cost of its accepted events alone). Warm: " + phase.toSeconds() + " s per phase"
                    + " after a " + warmup.toSeconds() + " s cold start (its three phases below, one third each).");
            bench.say("");
            bench.say("| phase | B sent | B received | B refused | B p50 | B p99 | B max | A sent | A accepted | A refused (429) | A other |");
            bench.say("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            for (List<Phase> set : List.of(cold, warm)) {
                for (Phase p : set) {
                    bench.say(String.format(Locale.ROOT, "| %s | %d | %d | %d | %s | %s | %s | %d | %d | %d | %d |", p.name, p.sent,
                            p.received, p.refused, ms(p.latency.millis(50)), ms(p.latency.millis(99)), ms(p.latency.maxMillis()),
                            p.floodSent, p.floodAccepted, p.floodRefused, p.floodOther));
                }
            }
            bench.say("");
            bench.say("Where B's time goes, per phase: p50 / p99 (ms) of each live-path stage (`switchboard.live.stage`, all"
                    + " tenants' events together, scraped before and after each phase):");
            bench.say("");
            bench.say("| phase | " + String.join(" | ", WsReport.STAGES) + " |");
            bench.say("|---|" + "---:|".repeat(WsReport.STAGES.size()));
            for (List<Phase> set : List.of(cold, warm)) {
                for (Phase p : set) {
                    StringBuilder row = new StringBuilder("| " + p.name + " |");
                    for (String stage : WsReport.STAGES) {
                        double[] v = p.stages.get(stage);
                        row.append(v == null ? " – |" : " " + WsReport.ms(v[0]) + " / " + WsReport.ms(v[1]) + " |");
                    }
                    bench.say(row.toString());
                }
            }
            double ratio = warm.get(2).latency.millis(99) / warm.get(0).latency.millis(99);
            double atQuota = warm.get(1).latency.millis(99) / warm.get(0).latency.millis(99);
            double coldRatio = cold.get(1).latency.millis(99) / cold.get(0).latency.millis(99);
            bench.say("");
            bench.say(String.format(Locale.ROOT, "**B's p99 with A flooding ÷ B's p99 alone: %.2f warm, %.2f cold** (target ≤ 1.5);"
                    + " with A at its quota ÷ alone: %.2f. B lost %d and was refused %d times.", ratio, coldRatio, atQuota,
                    warm.stream().mapToLong(p -> p.sent - p.received - p.refused).sum(), warm.stream().mapToLong(p -> p.refused).sum()));
            bench.say("");
        }
    }
}
