package dev.switchboard.bench;

import java.nio.file.Files;
import java.nio.file.Path;
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
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/**
 * The WebSocket fan-out benchmark of issue #4, run by {@code bench/ws.sh}: one topic, many
 * subscribers, one publisher on a fixed clock, against (a) Node {@code ws}, (b) a Go gorilla hub,
 * (c) NATS over WebSocket and (d) Switchboard, interleaved and repeated; then the memory of idle
 * connections. This JVM is the load client; every server is a child process.
 */
public final class WsBenchMain {

    static final String USAGE = """
            Environment of bench/ws.sh (all optional):
              SWITCHBOARD_WSBENCH_REPEATS          rounds of A-B-C-D, default 3
              SWITCHBOARD_WSBENCH_SECONDS          measured seconds per rate point, default 10
              SWITCHBOARD_WSBENCH_POINT_WARMUP_SECONDS  publishing before each point's window, default 2
              SWITCHBOARD_WSBENCH_DRAIN_SECONDS    how long after the last due time deliveries are awaited, default 3
              SWITCHBOARD_WSBENCH_WARMUP_SECONDS   per-system warm-up at 50/s before round 1 (not reported), default 20
              SWITCHBOARD_WSBENCH_SWITCHBOARD_WARMUP_MAX_SECONDS  Switchboard's warm-up goes on in 20 s steps, through the rates in turn,
                                                   while the C2 compiler takes over 10 % of its CPU, up to this in all; default 300
              SWITCHBOARD_WSBENCH_RATES            publish rates per second, default 20,50,100,150
              SWITCHBOARD_WSBENCH_SUBSCRIBERS      subscribers on the topic, default 1000
              SWITCHBOARD_WSBENCH_IDLE_CONNECTIONS idle connections for the memory check, default 10000 (0: skip)
              SWITCHBOARD_WSBENCH_SYSTEMS          which, in order, default node,go,nats,switchboard
              SWITCHBOARD_WSBENCH_SWITCHBOARD_PUBLISH  rest (default: a backend's POST /v1/topics/{t}/events) or ws (publish frames)
              SWITCHBOARD_WSBENCH_JFR_RATE         record a JFR of Switchboard during this rate's window in the last round
              SWITCHBOARD_BENCH_DATABASE_URL       PostgreSQL server for Switchboard (default postgresql://postgres@127.0.0.1:5432/postgres);
                                                   a database sbwsbench_<random> is created there and dropped at the end
              SWITCHBOARD_BENCH_PLATFORM_JAR       default standalone/target/switchboard-standalone.jar
              SWITCHBOARD_BENCH_PLATFORM_JAVA_OPTS JVM options of the Switchboard process
              SWITCHBOARD_WSBENCH_DOCS             folder the report is kept in, default docs/benchmarks; "-" to only print.
                                                   Each run adds a new file <YYYY-MM-DD>-ws-<HHMM>.md there (its start in UTC;
                                                   -2, -3, ... if a run of the same minute has the name). A run never changes
                                                   docs/benchmarks.md: update its "Latest figures" table by hand
            """;

    /** Knee rule: a rate passes when all of these hold, and the knee is the highest rate with it and every lower one passing. */
    static final double MIN_SHARE = 0.95;
    static final double MAX_P99_MILLIS = 50;

    private final Map<String, String> env;
    private final List<WsSystem> systems = new ArrayList<>();

    private WsBenchMain(Map<String, String> env) {
        this.env = env;
    }

    public static void main(String[] args) {
        if (args.length > 0 && (args[0].equals("-h") || args[0].equals("--help"))) {
            System.out.print(USAGE);
            return;
        }
        WsBenchMain bench = new WsBenchMain(System.getenv());
        Runtime.getRuntime().addShutdownHook(new Thread(bench::stopAll, "wsbench-clean-up"));
        try {
            bench.run();
        } catch (Exception e) {
            System.err.println();
            System.err.println("WebSocket benchmark failed: " + e);
            if (e.getCause() != null) {
                System.err.println("  caused by: " + e.getCause());
            }
            e.printStackTrace();
            bench.stopAll();
            System.exit(1);
        }
        System.exit(0);
    }

    private void run() throws Exception {
        long began = System.nanoTime();
        Optional<Path> docs = DatedReports.folder("SWITCHBOARD_WSBENCH_DOCS", env.get("SWITCHBOARD_WSBENCH_DOCS"));
        int repeats = intEnv("SWITCHBOARD_WSBENCH_REPEATS", 3, 1, 20);
        Duration measure = Duration.ofSeconds(intEnv("SWITCHBOARD_WSBENCH_SECONDS", 10, 1, 120));
        Duration pointWarmup = Duration.ofSeconds(intEnv("SWITCHBOARD_WSBENCH_POINT_WARMUP_SECONDS", 2, 0, 60));
        Duration drain = Duration.ofSeconds(intEnv("SWITCHBOARD_WSBENCH_DRAIN_SECONDS", 3, 1, 60));
        Duration warmup = Duration.ofSeconds(intEnv("SWITCHBOARD_WSBENCH_WARMUP_SECONDS", 20, 0, 600));
        Duration warmupMax = Duration.ofSeconds(intEnv("SWITCHBOARD_WSBENCH_SWITCHBOARD_WARMUP_MAX_SECONDS", 300, 0, 1200));
        List<Integer> rates = Arrays.stream(env.getOrDefault("SWITCHBOARD_WSBENCH_RATES", "20,50,100,150").split(","))
                .map(String::trim).map(Integer::parseInt).toList();
        int subscribers = intEnv("SWITCHBOARD_WSBENCH_SUBSCRIBERS", 1000, 1, 15_000);
        int idle = intEnv("SWITCHBOARD_WSBENCH_IDLE_CONNECTIONS", 10_000, 0, 18_000);
        int jfrRate = intEnv("SWITCHBOARD_WSBENCH_JFR_RATE", 0, 0, 1_000_000);
        List<String> keys = Arrays.stream(env.getOrDefault("SWITCHBOARD_WSBENCH_SYSTEMS", "node,go,nats,switchboard").split(","))
                .map(String::trim).filter(s -> !s.isEmpty()).toList();
        Path work = Files.createDirectories(Path.of(env.getOrDefault("SWITCHBOARD_BENCH_WORK_DIR",
                Files.createTempDirectory("sbwsbench").toString())));
        byte[] id = new byte[4];
        new java.security.SecureRandom().nextBytes(id);
        String runId = HexFormat.of().formatHex(id);
        PgUrl pg = PgUrl.parse(env.getOrDefault("SWITCHBOARD_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"));
        List<String> javaOptions = Arrays.stream(env.getOrDefault("SWITCHBOARD_BENCH_PLATFORM_JAVA_OPTS", "").trim().split("\\s+"))
                .filter(s -> !s.isEmpty()).toList();

        WsReport report = new WsReport(rates, subscribers, MIN_SHARE, MAX_P99_MILLIS);
        report.started = ZonedDateTime.now(ZoneOffset.UTC);
        report.command = env.getOrDefault("SWITCHBOARD_BENCH_COMMAND", "bench/ws.sh");
        String loadStart = Machine.loadAverage();
        say("WebSocket benchmark " + runId + ": " + Machine.cores() + " cores, " + Machine.memory() + ", load average " + loadStart
                + "; work folder " + work);

        for (String key : keys) {
            Path dir = Files.createDirectories(work.resolve(key));
            systems.add(switch (key) {
                case "node" -> new WsSystem.Node(dir, Path.of(env.getOrDefault("SWITCHBOARD_WSBENCH_NODE_DIR", "bench/peers/node")).toAbsolutePath());
                case "go" -> new WsSystem.GoHub(dir, Path.of(env.getOrDefault("SWITCHBOARD_WSBENCH_GOHUB", "bench/target/gohub")).toAbsolutePath());
                case "nats" -> new WsSystem.Nats(dir);
                case "switchboard" -> new WsSystem.Switchboard(dir, Path.of(env.getOrDefault("SWITCHBOARD_BENCH_PLATFORM_JAR",
                        "standalone/target/switchboard-standalone.jar")).toAbsolutePath(), pg, javaOptions, runId,
                        !env.getOrDefault("SWITCHBOARD_WSBENCH_SWITCHBOARD_PUBLISH", "rest").equals("ws"));
                default -> throw new IllegalArgumentException("SWITCHBOARD_WSBENCH_SYSTEMS: unknown system " + key);
            });
        }
        for (WsSystem s : systems) {
            long t = System.nanoTime();
            s.start();
            say(String.format(Locale.ROOT, "%s up in %.1f s at %s (pid %d)", s.name, (System.nanoTime() - t) / 1e9, s.url(), s.pid()));
            report.systems.put(s.key, s.name);
            report.cpuCounted.put(s.key, s.cpuCounted());
            if (s instanceof WsSystem.Switchboard sb) {
                report.switchboardPublishing = sb.publishing();
            }
        }

        if (!warmup.isZero()) {
            for (WsSystem s : systems) {
                say("warming " + s.name + " up: " + subscribers + " subscribers, 50/s for " + warmup.toSeconds() + " s (not reported) ...");
                try (WsLoad load = new WsLoad(s.wire(), s.url())) {
                    requireSubscribers(load, subscribers, s);
                    load.run(50, Duration.ZERO, warmup, drain, s.cpu(), null);
                }
                if (s instanceof WsSystem.Switchboard) {
                    report.switchboardWarmup = warmUntilCompiled(s, subscribers, rates, warmup, warmupMax, drain);
                }
            }
        }

        Map<String, Double> sbThreads = new java.util.HashMap<>();
        double sbSeconds = 0;
        for (int round = 1; round <= repeats; round++) {
            for (WsSystem s : systems) {
                say("round " + round + "/" + repeats + ": " + s.name + " ...");
                boolean sb = s instanceof WsSystem.Switchboard;
                Map<String, Double> threadsBefore = sb ? Machine.threadGroupCpuSeconds(s.pid()) : Map.of();
                long roundBegan = System.nanoTime();
                try (WsLoad load = new WsLoad(s.wire(), s.url())) {
                    requireSubscribers(load, subscribers, s);
                    for (int rate : rates) {
                        int reopened = load.subscribers(subscribers) == 0 ? 0 : -1;
                        Runnable hook = null;
                        Path jfr = work.resolve("switchboard-" + rate + ".jfr");
                        if (round == repeats && rate == jfrRate && s instanceof WsSystem.Switchboard) {
                            hook = () -> jcmd(s.pid(), "JFR.start", "name=wsbench", "settings=profile",
                                    "duration=" + measure.toSeconds() + "s", "filename=" + jfr);
                        }
                        Map<String, double[]> timersBefore = s instanceof WsSystem.Switchboard sbs ? sbs.publishTimers() : Map.of();
                        Map<String, java.util.TreeMap<Double, Double>> stagesBefore = s instanceof WsSystem.Switchboard sbs ? sbs.liveStages() : Map.of();
                        WsLoad.Point p = load.run(rate, pointWarmup, measure, drain, s.cpu(), hook);
                        Map<String, double[]> timersAfter = s instanceof WsSystem.Switchboard sbs ? sbs.publishTimers() : Map.of();
                        Map<String, double[]> stages = new java.util.LinkedHashMap<>();
                        if (s instanceof WsSystem.Switchboard sbs) {
                            sbs.liveStages().forEach((stage, after) -> stages.put(stage, new double[]{
                                    Api.percentileMillis(stagesBefore.get(stage), after, 50), Api.percentileMillis(stagesBefore.get(stage), after, 99)}));
                        }
                        Map<String, Double> hops = new java.util.LinkedHashMap<>();
                        timersBefore.forEach((name, before) -> {
                            double[] after = timersAfter.get(name);
                            hops.put(name, before == null || after == null || after[0] <= before[0] ? Double.NaN
                                    : 1000 * (after[1] - before[1]) / (after[0] - before[0]));
                        });
                        report.add(round, s.key, p, hops, stages);
                        say(String.format(Locale.ROOT, "    %3d/s: sent %s/s, %s deliveries/s of %s, %.1f %% by deadline, p50 %s p99 %s p99.9 %s ms,"
                                        + " server %.2f cores, %s CPU-s/M, client %.2f cores, %d disconnects, %d errors%s%s",
                                rate, WsReport.num(p.sentPerSecond()), WsReport.num(p.deliveriesPerSecond()),
                                WsReport.num(p.targetDeliveriesPerSecond()), 100 * p.completeness(), WsReport.ms(p.millis(50)),
                                WsReport.ms(p.millis(99)), WsReport.ms(p.millis(99.9)), p.serverCpuSeconds() / p.seconds(),
                                WsReport.dec(p.cpuSecondsPerMillion()), p.cpu().bench(), p.disconnects(), p.errors(),
                                p.firstError() == null ? "" : " (first: " + p.firstError() + ")", reopened < 0 ? " (some reconnects failed)" : "")
                                + (p.sends().getTotalCount() == 0 ? "" : ", client send p50 " + WsReport.ms(p.sends().getValueAtPercentile(50) / 1000.0)
                                + " p99 " + WsReport.ms(p.sends().getValueAtPercentile(99) / 1000.0) + " ms")
                                + (p.acks().getTotalCount() == 0 ? "" : ", publish ack p50 " + WsReport.ms(p.acks().getValueAtPercentile(50) / 1000.0)
                                + " p99 " + WsReport.ms(p.acks().getValueAtPercentile(99) / 1000.0) + " ms, ack→delivery p50 "
                                + WsReport.ms(p.afterAck().getValueAtPercentile(50) / 1000.0) + " p99 " + WsReport.ms(p.afterAck().getValueAtPercentile(99) / 1000.0) + " ms")
                                + hops.entrySet().stream().map(e -> ", " + e.getKey() + " mean " + WsReport.ms(e.getValue()) + " ms")
                                .collect(java.util.stream.Collectors.joining())
                                + WsReport.STAGES.stream().filter(stages::containsKey).map(st -> ", " + st + " p50 " + WsReport.ms(stages.get(st)[0])
                                        + " p99 " + WsReport.ms(stages.get(st)[1]) + " ms").collect(java.util.stream.Collectors.joining()));
                        if (hook != null) {
                            Thread.sleep(1000);
                            report.notes.add("JFR of Switchboard during the " + rate + "/s window of the last round: `" + jfr + "`");
                        }
                    }
                }
                if (sb) {
                    Machine.threadGroupCpuSeconds(s.pid()).forEach((k, v) -> sbThreads.merge(k, v - threadsBefore.getOrDefault(k, 0.0), Double::sum));
                    sbSeconds += (System.nanoTime() - roundBegan) / 1e9;
                }
            }
        }
        if (!sbThreads.isEmpty()) {
            report.notes.add(BenchMain.threadProfile(Map.of(), sbThreads, sbSeconds)
                    .replace("during (b) and (c)", "during its rounds (connects, all rates, drains)"));
        }

        if (idle > 0) {
            for (WsSystem s : systems) {
                say("idle connections: " + s.name + ", " + idle + " ...");
                OptionalLong heap0 = s.heapBytes();
                String histogram0 = s instanceof WsSystem.Switchboard sb ? sb.lastHistogram() : "";
                long rss0 = s.rssBytes();
                try (WsLoad load = new WsLoad(s.wire(), s.url())) {
                    int failed = load.subscribers(idle);
                    Thread.sleep(2000);
                    int open = load.openSubscribers();
                    OptionalLong heap1 = s.heapBytes();
                    long rss1 = s.rssBytes();
                    WsReport.Idle result = new WsReport.Idle(s.key, open, failed, heap0, heap1, rss0, rss1, s.heapMethod(), load.firstError());
                    report.idle.add(result);
                    if (s instanceof WsSystem.Switchboard sb && open > 0) {
                        report.notes.add("**Switchboard's heap growth per idle connection by class** (" + open + " connections, top 10 of "
                                + "`GC.class_histogram` after − before): " + WsSystem.Switchboard.heapGrowth(histogram0, sb.lastHistogram(), open, 10) + ".");
                    }
                    say(String.format(Locale.ROOT, "    %d open (%d failed): heap %s per connection, RSS %s per connection", open, failed,
                            WsReport.bytes(result.heapPerConnection()), WsReport.bytes(result.rssPerConnection())));
                }
            }
        }

        String pgVersion = "?";
        for (WsSystem s : systems) {
            if (s instanceof WsSystem.Switchboard sb) {
                pgVersion = sb.pgVersion;
            }
        }
        stopAll();
        String loadEnd = Machine.loadAverage();
        report.facts.add("Code: commit " + env.getOrDefault("SWITCHBOARD_BENCH_COMMIT", "unknown"));
        report.facts.add("Machine: " + Machine.cores() + " cores (" + Machine.cpuModel() + "), " + Machine.memory() + "; Java "
                + System.getProperty("java.version") + "; " + tool("node", "--version") + "; nats-server " + tool("nats-server", "--version")
                + "; " + tool("go", "version") + "; PostgreSQL " + pgVersion + " at " + pg.host() + ":" + pg.port());
        report.facts.add("Load average (1, 5, 15 min): " + loadStart + " at start, " + loadEnd + " at end (includes this run's own load)"
                + (first(loadStart) >= Machine.cores() / 2.0 ? "; **the machine had other work when the run began: rerun on a quiet machine**" : ""));
        report.facts.add("Per point: " + pointWarmup.toSeconds() + " s publishing before a " + measure.toSeconds() + " s window; deliveries of the window's "
                + "messages awaited up to " + drain.toSeconds() + " s after the last was due; per-system warm-up " + warmup.toSeconds()
                + " s at 50/s before round 1" + (report.switchboardWarmup == null ? "" : " (Switchboard, a JVM: " + report.switchboardWarmup + ")")
                + "; " + repeats + " round(s) of " + String.join("-", keys) + "; whole run "
                + Math.round((System.nanoTime() - began) / 1e9) + " s");
        report.writeOut(docs);
    }

    /**
     * Switchboard runs on a JVM: its numbers mean steady state only once the JIT has compiled the
     * paths the rates take (a run on 2026-12-01 still had C2 at 21 % of the platform's CPU during the
     * rounds after the fixed warm-up). Goes on in 20 s steps, through the rates in turn and each with
     * fresh subscribers (as every round connects its own), while the C2
     * compiler threads take more than 10 % of the platform's CPU, until {@code max} in all. Returns
     * the whole warm-up and the compiler's share in its last step, for the report.
     */
    private static String warmUntilCompiled(WsSystem s, int subscribers, List<Integer> rates, Duration fixed, Duration max,
                                            Duration drain) throws Exception {
        BenchMain.Warmup warmup = BenchMain.warmUntilCompiled(s.pid(), fixed, max, step -> {
            // Fresh subscribers each step, as each round has: their connect and subscribe paths get compiled too.
            try (WsLoad load = new WsLoad(s.wire(), s.url())) {
                requireSubscribers(load, subscribers, s);
                load.run(rates.get(step % rates.size()), Duration.ZERO, BenchMain.WARMUP_STEP, drain, s.cpu(), null);
            }
        }, (step, c2) -> say(String.format(Locale.ROOT, "    %d s more at %d/s: the C2 compiler took %.0f %% of the platform's CPU",
                BenchMain.WARMUP_STEP.toSeconds(), rates.get(step % rates.size()), 100 * c2)));
        double c2 = warmup.lastCompilerShare();
        return String.format(Locale.ROOT, "%d s (%d s at 50/s, then 20 s steps through the rates while the C2 compiler took over 10 %% of its CPU, at most %d s)%s",
                warmup.total().toSeconds(), fixed.toSeconds(), max.toSeconds(),
                Double.isNaN(c2) ? "" : String.format(Locale.ROOT, "; C2's share in the last step: %.0f %%", 100 * c2));
    }

    private static void requireSubscribers(WsLoad load, int n, WsSystem s) {
        int failed = load.subscribers(n);
        if (load.openSubscribers() < n * MIN_SHARE) {
            throw new IllegalStateException(s.name + ": only " + load.openSubscribers() + " of " + n + " subscribers could connect ("
                    + failed + " failed; first error: " + load.firstError() + ")");
        }
    }

    private synchronized void stopAll() {
        for (WsSystem s : systems) {
            try {
                s.close();
            } catch (RuntimeException e) {
                System.err.println("stopping " + s.name + ": " + e);
            }
        }
    }

    static String jcmd(long pid, String... args) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), Long.toString(pid)));
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            p.waitFor(30, TimeUnit.SECONDS);
            return out;
        } catch (Exception e) {
            return e.toString();
        }
    }

    private static String tool(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
            p.waitFor(10, TimeUnit.SECONDS);
            return out.lines().findFirst().orElse("?");
        } catch (Exception e) {
            return command[0] + " ?";
        }
    }

    private static double first(String load) {
        try {
            return Double.parseDouble(load.split(",")[0].trim());
        } catch (RuntimeException e) {
            return Double.NaN;
        }
    }

    private int intEnv(String name, int fallback, int min, int max) {
        String text = env.get(name);
        if (text == null || text.isBlank()) {
            return fallback;
        }
        int v = Integer.parseInt(text.trim());
        if (v < min || v > max) {
            throw new IllegalArgumentException(name + ": " + v + " is outside " + min + ".." + max);
        }
        return v;
    }

    static void say(String line) {
        System.out.println("[wsbench] " + line);
        System.out.flush();
    }
}
