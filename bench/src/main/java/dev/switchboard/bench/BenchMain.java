package dev.switchboard.bench;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.SQLException;
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
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The benchmark of issue #3, run by {@code bench/run.sh}: (a) raw PostgreSQL, (b) batched publish
 * at several producer counts, (c) single-event publish latency at fixed rates, against a fresh
 * database and a platform of its own; prints a Markdown report and keeps it as a new dated file in
 * docs/benchmarks/ ({@link DatedReports}).
 * Every knob is an environment variable (see {@link #USAGE}); all traffic stays on 127.0.0.1.
 */
public final class BenchMain {

    static final String USAGE = """
            Environment (all optional):
              SWITCHBOARD_BENCH_DATABASE_URL   PostgreSQL server to use (default postgresql://postgres@127.0.0.1:5432/postgres);
                                               a database sbbench_<random> is created there and dropped at the end
              SWITCHBOARD_BENCH_PLATFORM_JAR   default standalone/target/switchboard-standalone.jar
              SWITCHBOARD_BENCH_CONFIG_DIR     folder of <service>.yml files given to the platform as ./config/ overrides
              SWITCHBOARD_BENCH_PLATFORM_JAVA_OPTS  JVM options of the platform process
              SWITCHBOARD_BENCH_PRODUCERS      (b) producer counts, default 1,8,64
              SWITCHBOARD_BENCH_RATES          (c) rates per second, default 200,1000
              SWITCHBOARD_BENCH_WARMUP_SECONDS warm-up before each (b)/(c) point, default 3
              SWITCHBOARD_BENCH_PLATFORM_WARMUP_SECONDS  batched warm-up of a fresh platform before any point, default 120 (steady state: after 30 s the JIT still took a third of the platform CPU)
              SWITCHBOARD_BENCH_PLATFORM_WARMUP_MAX_SECONDS  the warm-up goes on in 20 s steps while the C2 compiler takes over 10 % of the platform's CPU, up to this in all, default 300
              SWITCHBOARD_BENCH_SECONDS        measured seconds per (b)/(c) point, default 10
              SWITCHBOARD_BENCH_RAW_SECONDS    measured seconds per (a) method, default 5
              SWITCHBOARD_BENCH_RAW_ROUNDS     rounds of all (a) methods; the median round is reported, default 3
              SWITCHBOARD_BENCH_DOCS           folder the report is kept in, default docs/benchmarks; "-" to only print.
                                               Each run adds a new file <YYYY-MM-DD>-run-<HHMM>.md there (its start in UTC;
                                               -2, -3, ... if a run of the same minute has the name). A run never changes
                                               docs/benchmarks.md: update its "Latest figures" table by hand
              SWITCHBOARD_BENCH_WORK_DIR       work folder (platform log and data), default a new temp folder
            """;

    static final String TENANT = "bench";
    static final String BATCH_TOPIC = "bench.batch";
    static final String SINGLE_TOPIC = "bench.single";
    static final String SMOKE_TOPIC = "bench.smoke";
    /**
     * Most of the publish path is JIT-compiled after this on an idle 2-core machine; on a loaded one,
     * C2 still takes about a third of the platform's CPU during the points that follow.
     */
    static final int DEFAULT_PLATFORM_WARMUP_SECONDS = 120;
    /** Steps the platform warm-up goes on by while the JIT is still busy. */
    static final Duration WARMUP_STEP = Duration.ofSeconds(20);
    /** Warmed up = the C2 compiler took at most this share of the platform's CPU over the last step. */
    static final double MAX_COMPILER_SHARE = 0.10;

    private final Map<String, String> env;
    private final Report report = new Report();
    private final AtomicBoolean cleaned = new AtomicBoolean();
    private PgUrl server;
    private PgUrl database;
    private volatile Platform platform;

    private BenchMain(Map<String, String> env) {
        this.env = env;
    }

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("ws")) {
            // bench/ws.sh: the WebSocket fan-out benchmark of issue #4, same jar.
            WsBenchMain.main(Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        if (args.length > 0 && args[0].equals("backpressure")) {
            // bench/backpressure.sh: the noisy-neighbour and consumer-group benchmark of issue #11, same jar.
            try {
                BackpressureBenchMain.main(Arrays.copyOfRange(args, 1, args.length));
            } catch (Exception e) {
                System.err.println("Benchmark failed: " + e);
                e.printStackTrace();
                System.exit(1);
            }
            return;
        }
        if (args.length > 0 && args[0].equals("workflow")) {
            // bench/workflow.sh: tokens from a model to browser sockets through workflow runs, issue #12, same jar.
            try {
                WorkflowBenchMain.main(Arrays.copyOfRange(args, 1, args.length));
            } catch (Exception e) {
                System.err.println("Benchmark failed: " + e);
                e.printStackTrace();
                System.exit(1);
            }
            return;
        }
        if (args.length > 0 && args[0].equals("durable-streams")) {
            // bench/durable-streams.sh: Durable Streams appends beside the reference server, issue #14, same jar.
            try {
                DurableStreamsBenchMain.main(Arrays.copyOfRange(args, 1, args.length));
            } catch (Exception e) {
                System.err.println("Benchmark failed: " + e);
                e.printStackTrace();
                System.exit(1);
            }
            return;
        }
        if (args.length > 0 && (args[0].equals("-h") || args[0].equals("--help"))) {
            System.out.print(USAGE);
            return;
        }
        BenchMain bench = new BenchMain(System.getenv());
        Runtime.getRuntime().addShutdownHook(new Thread(bench::cleanUp, "bench-clean-up"));
        try {
            bench.run();
        } catch (Exception e) {
            System.err.println();
            System.err.println("Benchmark failed: " + e);
            Throwable cause = e.getCause();
            if (cause != null) {
                System.err.println("  caused by: " + cause);
            }
            bench.cleanUp();
            System.exit(1);
        }
        System.exit(0);
    }

    private void run() throws Exception {
        long began = System.nanoTime();
        server = PgUrl.parse(env.getOrDefault("SWITCHBOARD_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"));
        requireLoopback(server.host());
        Optional<Path> docs = DatedReports.folder("SWITCHBOARD_BENCH_DOCS", env.get("SWITCHBOARD_BENCH_DOCS"));
        Path jar = Path.of(env.getOrDefault("SWITCHBOARD_BENCH_PLATFORM_JAR", "standalone/target/switchboard-standalone.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: build it with ./mvnw -B -q -DskipTests clean package");
        }
        List<Integer> producers = ints("SWITCHBOARD_BENCH_PRODUCERS", "1,8,64", 1, 256);
        List<Integer> rates = ints("SWITCHBOARD_BENCH_RATES", "200,1000", 1, 20_000);
        Duration warmup = Duration.ofSeconds(ints("SWITCHBOARD_BENCH_WARMUP_SECONDS", "3", 0, 30).get(0));
        Duration measure = Duration.ofSeconds(ints("SWITCHBOARD_BENCH_SECONDS", "10", 1, 60).get(0));
        Duration rawMeasure = Duration.ofSeconds(ints("SWITCHBOARD_BENCH_RAW_SECONDS", "5", 1, 60).get(0));
        int rawRounds = ints("SWITCHBOARD_BENCH_RAW_ROUNDS", "3", 1, 9).get(0);
        Duration platformWarmup = Duration.ofSeconds(ints("SWITCHBOARD_BENCH_PLATFORM_WARMUP_SECONDS",
                String.valueOf(DEFAULT_PLATFORM_WARMUP_SECONDS), 0, 600).get(0));
        Duration platformWarmupMax = Duration.ofSeconds(ints("SWITCHBOARD_BENCH_PLATFORM_WARMUP_MAX_SECONDS",
                "300", 0, 1200).get(0));
        Duration platformWarmedUp = platformWarmup;
        Path workDir = env.containsKey("SWITCHBOARD_BENCH_WORK_DIR")
                ? Files.createDirectories(Path.of(env.get("SWITCHBOARD_BENCH_WORK_DIR")))
                : Files.createTempDirectory("sbbench");
        Path configDir = env.containsKey("SWITCHBOARD_BENCH_CONFIG_DIR") ? Path.of(env.get("SWITCHBOARD_BENCH_CONFIG_DIR")) : null;
        List<String> javaOptions = Arrays.stream(env.getOrDefault("SWITCHBOARD_BENCH_PLATFORM_JAVA_OPTS", "").trim().split("\\s+"))
                .filter(s -> !s.isEmpty()).toList();

        report.started = ZonedDateTime.now(ZoneOffset.UTC);
        report.command = env.getOrDefault("SWITCHBOARD_BENCH_COMMAND", "bench/run.sh");
        String loadStart = Machine.loadAverage();
        String runId = HexFormat.of().formatHex(randomBytes(4));
        Events events = new Events(runId);

        say("Switchboard benchmark " + runId + ": " + Machine.cores() + " cores, " + Machine.memory() + ", load average " + loadStart);
        say("work folder " + workDir);

        // A fresh database for this run only.
        database = server.withDatabase("sbbench_" + runId);
        try (Connection c = server.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + database.database());
        }
        Files.writeString(workDir.resolve("database"), database.database());
        say("database " + database + " created");
        String pgVersion = show("server_version");
        boolean autovacuum = "on".equals(show("autovacuum"));
        String pgSettings = "synchronous_commit=" + show("synchronous_commit") + ", fsync=" + show("fsync") + ", shared_buffers="
                + show("shared_buffers") + ", max_wal_size=" + show("max_wal_size") + ", autovacuum=" + show("autovacuum");

        // (a) before the platform starts, so PostgreSQL has the machine to itself as far as this run goes.
        RawPostgres raw = new RawPostgres(database, events, Duration.ofSeconds(1), rawMeasure);
        raw.createScratchTables();
        report.envelopeBytes = raw.averageEnvelopeBytes();
        say("(a) raw PostgreSQL, " + rawRounds + " round(s) of " + rawMeasure.toSeconds() + " s per method ...");
        List<List<RawPostgres.Result>> rounds = new ArrayList<>();
        for (int round = 1; round <= rawRounds; round++) {
            List<RawPostgres.Result> results = new ArrayList<>();
            results.add(sayRaw(raw.multiRowInsert(1)));
            results.add(sayRaw(raw.multiRowInsert(8)));
            results.add(sayRaw(raw.copy()));
            results.add(sayRaw(raw.serverTransaction(100)));
            results.add(sayRaw(raw.serverTransaction(1000)));
            rounds.add(results);
        }
        for (int m = 0; m < rounds.get(0).size(); m++) {
            int method = m;
            RawPostgres.Result first = rounds.get(0).get(m);
            report.raw.add(new RawPostgres.Summary(first.method(), first.connections(), rounds.stream().map(r -> r.get(method)).toList()));
        }
        raw.reset();

        say("starting the platform (" + jar + ") ...");
        long startBegan = System.nanoTime();
        String adminToken = HexFormat.of().formatHex(randomBytes(24));
        platform = Platform.start(jar, database, workDir, configDir, javaOptions, adminToken);
        platform.awaitReady();
        double startSeconds = (System.nanoTime() - startBegan) / 1e9;
        say(String.format(Locale.ROOT, "platform ready in %.1f s (gateway :%d, registry :%d, delivery :%d, pid %d)", startSeconds,
                platform.gatewayPort, platform.registryPort, platform.deliveryPort, platform.pid()));

        Api api = new Api(platform);
        api.createTenant(TENANT);
        String publishKey = api.createKey(TENANT, "bench-publish", "publish");
        String subscribeKey = api.createKey(TENANT, "bench-subscribe", "subscribe");
        for (String topic : List.of(BATCH_TOPIC, SINGLE_TOPIC, SMOKE_TOPIC)) {
            api.declareTopic(TENANT, topic);
        }
        HttpResponse<String> smoke = api.publishBatch(SMOKE_TOPIC, publishKey, events.batch(0, 2));
        if (smoke.statusCode() != 201) {
            throw new IllegalStateException("A first batch publish answered " + smoke.statusCode() + " " + smoke.body()
                    + ": the platform does not accept publishes, nothing to measure. Platform log: " + platform.log);
        }

        try (Connection monitor = database.connect(); Statement checkpoint = monitor.createStatement()) {
            Probe probe = new Probe(new CpuSampler(platform.pid(), monitor), api);

            // A fresh JVM runs interpreted at first: warm both sides' publish paths up before any point counts.
            say("warming the platform up (" + platformWarmup.toSeconds() + " s batched, 64 producers; 5 s single at 200/s; on "
                    + SMOKE_TOPIC + ", not reported) ...");
            new BatchPublish(platform.gateway(), SMOKE_TOPIC, publishKey, events, probe).run(64, Duration.ZERO, platformWarmup);
            // Steady state means compiled: on a busy machine the fixed warm-up may not get there.
            platformWarmedUp = warmUntilCompiled(platform.pid(), platformWarmup, platformWarmupMax,
                    step -> new BatchPublish(platform.gateway(), SMOKE_TOPIC, publishKey, events, probe).run(64, Duration.ZERO, WARMUP_STEP),
                    (step, c2) -> {
                        if (c2 > MAX_COMPILER_SHARE) {
                            say(String.format(Locale.ROOT, "    the C2 compiler still took %.0f %% of the platform's CPU: %d s more", 100 * c2,
                                    WARMUP_STEP.toSeconds()));
                        }
                    }).total();
            new FixedRatePublish(platform.gateway(), SMOKE_TOPIC, publishKey, events, probe).run(200, Duration.ZERO, Duration.ofSeconds(5));
            if (!autovacuum) {
                // Without autovacuum nothing ever gathers statistics on delivery's fresh tables, and the
                // plans PostgreSQL caches for them stay those of empty tables (a sequential scan of dedup
                // per commit). Do once what autovacuum would have done by now.
                say("autovacuum is off on this server: ANALYZE once, as autovacuum would");
                checkpoint.execute("ANALYZE");
            }

            Map<String, Double> threadsBefore = Machine.threadGroupCpuSeconds(platform.pid());
            long measuredFrom = System.nanoTime();

            BatchPublish batch = new BatchPublish(platform.gateway(), BATCH_TOPIC, publishKey, events, probe);
            for (int p : producers) {
                RawPostgres.checkpoint(checkpoint);
                say("(b) batched publish, " + p + " producer(s): " + warmup.toSeconds() + " s warm-up + " + measure.toSeconds() + " s ...");
                BatchPublish.Point point = batch.run(p, warmup, measure);
                report.batches.add(point);
                say(String.format(Locale.ROOT, "    %s events/s, %d errors%s", Report.num(point.eventsPerSecond()), point.errors(),
                        point.firstError() == null ? "" : " (first: " + point.firstError() + ")"));
            }

            FixedRatePublish single = new FixedRatePublish(platform.gateway(), SINGLE_TOPIC, publishKey, events, probe);
            Duration rateWarmup = warmup.compareTo(Duration.ofSeconds(2)) > 0 ? Duration.ofSeconds(2) : warmup;
            for (int rate : rates) {
                RawPostgres.checkpoint(checkpoint);
                say("(c) single publish at " + rate + "/s: " + rateWarmup.toSeconds() + " s warm-up + " + measure.toSeconds() + " s ...");
                FixedRatePublish.Point point = single.run(rate, rateWarmup, measure);
                report.rates.add(point);
                say(String.format(Locale.ROOT, "    achieved %s/s, p50 %s ms, p99 %s ms, %d errors%s", Report.num(point.achievedPerSecond()),
                        Report.ms(point.latency().millis(50)), Report.ms(point.latency().millis(99)), point.errors(),
                        point.firstError() == null ? "" : " (first: " + point.firstError() + ")"));
            }

            report.verifications.add(new Report.Verification(BATCH_TOPIC, batch.acknowledged.get(), batch.uncertain.get(),
                    api.head(BATCH_TOPIC, subscribeKey)));
            report.verifications.add(new Report.Verification(SINGLE_TOPIC, single.acknowledged.get(), single.uncertain.get(),
                    api.head(SINGLE_TOPIC, subscribeKey)));
            report.notes.add(threadProfile(threadsBefore, Machine.threadGroupCpuSeconds(platform.pid()), (System.nanoTime() - measuredFrom) / 1e9));
            report.notes.add(tableScans(monitor));
            report.notes.add(jitBacklog(platform.pid()));
        }

        String stopped = platform.stop();
        say("platform " + stopped);
        dropDatabase();
        String loadEnd = Machine.loadAverage();

        String commit = env.getOrDefault("SWITCHBOARD_BENCH_COMMIT", "unknown");
        report.facts.add("Code: commit " + commit);
        report.facts.add("Machine: " + Machine.cores() + " cores (" + Machine.cpuModel() + "), " + Machine.memory()
                + " memory; PostgreSQL " + pgVersion + " at " + server.host() + ":" + server.port() + " (" + pgSettings + "); Java "
                + System.getProperty("java.version"));
        if (!autovacuum) {
            report.facts.add("autovacuum is off on this PostgreSQL server: the run does one `ANALYZE` after the platform warm-up, "
                    + "as autovacuum would have by then (without it, delivery's dedup look-up keeps a plan made for an empty table)");
        }
        report.facts.add("Load average (1, 5, 15 min): " + loadStart + " at start, " + loadEnd + " at end (this includes the run's own load)"
                + loadVerdict(loadStart) + othersVerdict());
        report.facts.add(String.format(Locale.ROOT, "Platform: `java %s-jar %s` (registry, delivery, gateway in one JVM), ready in %.1f s; %s",
                javaOptions.isEmpty() ? "" : String.join(" ", javaOptions) + " ", jar.getFileName(), startSeconds, stopped)
                + (configDir == null ? "" : "; config overrides from " + configDir + ": " + configFiles(configDir)));
        report.facts.add("Durations: (a) " + rawRounds + " round(s) of all methods, each 1 s warm-up + " + rawMeasure.toSeconds()
                + " s; platform warm-up "
                + platformWarmedUp.toSeconds() + " s batched (64 producers; " + platformWarmup.toSeconds()
                + " s, then 20 s steps while the C2 compiler took over 10 % of the platform's CPU, at most "
                + platformWarmupMax.toSeconds() + " s) + 5 s single at 200/s; (b) " + warmup.toSeconds()
                + " s warm-up + " + measure.toSeconds() + " s per point; (c) " + rateWarmup(warmup) + " s warm-up + "
                + measure.toSeconds() + " s per rate; whole run " + Math.round((System.nanoTime() - began) / 1e9) + " s");
        report.facts.add("CPU columns are cores' worth over the measured interval (1.00 = one core busy); \"PG backends\" are the "
                + "server processes of this run's database only; \"others\" is everything else on the machine (other work, and "
                + "PostgreSQL's WAL writer and checkpointer); \"machine busy\" is all of it as a share of the machine");
        report.notes.add(0, target());

        String markdown = report.markdown();
        System.out.println();
        System.out.println(markdown);
        if (docs.isPresent()) {
            Path file = DatedReports.write(docs.get(), DatedReports.RUN, report.started, report.title(), "bench/run.sh", report.body());
            say("report written to " + file);
            say(DatedReports.REMINDER);
        }
    }

    private String show(String setting) throws SQLException {
        try (Connection c = database.connect(); Statement s = c.createStatement(); var rs = s.executeQuery("SHOW " + setting)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** One step of a warm-up; {@code index} counts from 0. */
    @FunctionalInterface
    interface WarmupStep {
        void run(int index) throws Exception;
    }

    /** @param total the whole warm-up; @param lastCompilerShare C2's share of the JVM's CPU in the last step (NaN: no step ran) */
    record Warmup(Duration total, double lastCompilerShare) {
    }

    /**
     * Steady state means compiled: after a fixed warm-up of {@code done}, runs {@link #WARMUP_STEP}
     * steps while the C2 compiler threads of JVM {@code pid} take more than {@link #MAX_COMPILER_SHARE}
     * of its CPU, until {@code max} in all. {@code onStep} hears each step's index and C2 share.
     */
    static Warmup warmUntilCompiled(long pid, Duration done, Duration max, WarmupStep step, StepReport onStep) throws Exception {
        double c2 = Double.NaN;
        for (int index = 0; done.compareTo(max) < 0; index++) {
            Map<String, Double> before = Machine.threadGroupCpuSeconds(pid);
            step.run(index);
            c2 = Machine.compilerShare(before, Machine.threadGroupCpuSeconds(pid));
            done = done.plus(WARMUP_STEP);
            onStep.accept(index, c2);
            if (c2 <= MAX_COMPILER_SHARE) {
                break;
            }
        }
        return new Warmup(done, c2);
    }

    /** What a warm-up step measured. */
    @FunctionalInterface
    interface StepReport {
        void accept(int index, double compilerShare);
    }

    /** (b) at its best against (a)'s 100-row INSERT on one connection (its median round), the 50 % target. */
    private String target() {
        double best = report.batches.stream().mapToDouble(BatchPublish.Point::eventsPerSecond).max().orElse(Double.NaN);
        RawPostgres.Summary insert = rawSummary(1);
        RawPostgres.Summary insert8 = rawSummary(8);
        double ratio = best / insert.rowsPerSecond();
        boolean allCommitted = report.verifications.stream().allMatch(v -> v.head() == v.acknowledged());
        return String.format(Locale.ROOT, "**Target**: (b) at its best %s events/s ÷ (a) 100-row INSERT on one connection %s rows/s "
                        + "(median of %d rounds) = **%.0f %%** (target ≥ 50 %%: %s; against its highest round, %s rows/s: %.0f %%; "
                        + "against 8 connections' %s rows/s: %.0f %%); acknowledged = committed: %s.",
                Report.num(best), Report.num(insert.rowsPerSecond()), insert.rounds().size(), 100 * ratio,
                ratio >= 0.5 ? "**met**" : "**not met**", Report.num(insert.max()), 100 * best / insert.max(),
                Report.num(insert8.rowsPerSecond()), 100 * best / insert8.rowsPerSecond(), allCommitted ? "yes" : "**no** (see above)");
    }

    private RawPostgres.Summary rawSummary(int connections) {
        return report.raw.stream().filter(r -> r.method().startsWith("100-row INSERT") && r.connections() == connections)
                .findFirst().orElseThrow();
    }

    /** Where the platform's CPU went during (b) and (c), by thread group: a profile without a profiler. */
    static String threadProfile(Map<String, Double> before, Map<String, Double> after, double seconds) {
        Map<String, Double> used = new java.util.HashMap<>();
        after.forEach((name, cpu) -> used.put(name, cpu - before.getOrDefault(name, 0.0)));
        double total = used.values().stream().mapToDouble(Double::doubleValue).sum();
        StringBuilder text = new StringBuilder(String.format(Locale.ROOT,
                "**Platform CPU by thread** during (b) and (c) (%.0f s of CPU in %.0f s, i.e. %.2f cores): ", total, seconds, total / seconds));
        used.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed()).limit(8).forEach(e ->
                text.append(String.format(Locale.ROOT, "`%s` %.1f s (%.0f %%), ", e.getKey(), e.getValue(), 100 * e.getValue() / total)));
        return text.substring(0, text.length() - 2) + ".";
    }

    /** How PostgreSQL read delivery's tables during the run: a sequential scan of {@code dedup} per commit would show here. */
    private static String tableScans(Connection monitor) {
        StringBuilder text = new StringBuilder("**delivery's tables in PostgreSQL** after the run (`pg_stat_user_tables`): ");
        try (Statement s = monitor.createStatement(); var rs = s.executeQuery("""
                SELECT relname, coalesce(seq_scan, 0), coalesce(seq_tup_read, 0), coalesce(idx_scan, 0), n_live_tup,
                       analyze_count + autoanalyze_count
                FROM pg_stat_user_tables WHERE schemaname = 'delivery' AND relname IN ('events', 'dedup', 'partitions')
                ORDER BY relname""")) {
            while (rs.next()) {
                text.append(String.format(Locale.ROOT, "`%s` %,d rows, %,d sequential scans reading %,d rows, %,d index scans, analysed %d×; ",
                        rs.getString(1), rs.getLong(5), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(6)));
            }
        } catch (SQLException e) {
            text.append("not available (").append(e.getMessage()).append(")");
        }
        return text.toString().replaceAll("; $", ".");
    }

    /**
     * Methods still waiting for the optimising compiler at the end: three Spring applications in
     * one JVM are a lot of code to compile, and until it is compiled the numbers are not steady-state.
     */
    private static String jitBacklog(long pid) {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        try {
            Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid), "Compiler.queue").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
            String c2 = out.contains("C2 compile queue:") ? out.substring(out.indexOf("C2 compile queue:")) : "";
            long queued = c2.lines().filter(l -> l.matches("^\\d+\\s.*")).count();
            return queued == 0
                    ? "**JIT**: the C2 compile queue was empty at the end of (c) (`jcmd <pid> Compiler.queue`)."
                    : "**JIT**: " + queued + " methods were still queued for the C2 compiler at the end of (c) (`jcmd "
                    + "<pid> Compiler.queue`): the platform was still running partly unoptimised code.";
        } catch (Exception e) {
            return "**JIT**: compile queue not available (" + e.getMessage() + ").";
        }
    }

    private static long rateWarmup(Duration warmup) {
        return Math.min(2, warmup.toSeconds());
    }

    private static String loadVerdict(String start) {
        double cores = Machine.cores();
        double load = first(start);
        if (Double.isNaN(load)) {
            return "";
        }
        if (load >= cores) {
            return "; **the machine was busy with other work when the run began** (1-minute load ≥ cores)";
        }
        if (load >= cores / 2) {
            return "; the machine had some other work when the run began (1-minute load ≥ half the cores)";
        }
        return "; the machine was quiet when the run began";
    }

    /** Whether other work took CPU during the measured points ("CPU others"). */
    private String othersVerdict() {
        double worst = 0;
        for (BatchPublish.Point p : report.batches) {
            worst = Math.max(worst, p.probe().cpu().others());
        }
        for (FixedRatePublish.Point p : report.rates) {
            worst = Math.max(worst, p.probe().cpu().others());
        }
        return worst >= 0.3
                ? String.format(Locale.ROOT, ". **Other work took up to %.2f cores during the measured points** (\"CPU others\"): "
                        + "treat the numbers as a lower bound", worst)
                : String.format(Locale.ROOT, ". Other work took at most %.2f cores during the measured points (\"CPU others\")", worst);
    }

    private static double first(String load) {
        try {
            return Double.parseDouble(load.split(",")[0].trim());
        } catch (RuntimeException e) {
            return Double.NaN;
        }
    }

    private static String configFiles(Path dir) {
        try (var files = Files.list(dir)) {
            return String.join(", ", files.map(f -> f.getFileName().toString()).sorted().toList());
        } catch (Exception e) {
            return "?";
        }
    }

    private RawPostgres.Result sayRaw(RawPostgres.Result r) {
        say("    " + r.method() + ", " + r.connections() + " connection(s): " + Report.num(r.rowsPerSecond()) + " rows/s");
        return r;
    }

    /** Stops the platform and drops the database, once, whatever happened (also on Ctrl-C). */
    private void cleanUp() {
        if (!cleaned.compareAndSet(false, true)) {
            return;
        }
        Platform p = platform;
        if (p != null) {
            p.stop();
        }
        dropDatabase();
    }

    private synchronized void dropDatabase() {
        if (database == null) {
            return;
        }
        try (Connection c = server.connect(); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + database.database() + " WITH (FORCE)");
            say("database " + database.database() + " dropped");
            database = null;
        } catch (SQLException e) {
            System.err.println("Could not drop database " + database.database() + ": " + e.getMessage());
        }
    }

    private List<Integer> ints(String name, String fallback, int min, int max) {
        String text = env.getOrDefault(name, fallback);
        List<Integer> values = new ArrayList<>();
        for (String part : text.split(",")) {
            int v = Integer.parseInt(part.trim());
            if (v < min || v > max) {
                throw new IllegalArgumentException(name + ": " + v + " is outside " + min + ".." + max);
            }
            values.add(v);
        }
        return values;
    }

    /** All traffic stays on this machine. */
    private static void requireLoopback(String host) {
        if (!host.equals("127.0.0.1") && !host.equals("localhost") && !host.equals("::1") && !host.equals("[::1]")) {
            throw new IllegalArgumentException("SWITCHBOARD_BENCH_DATABASE_URL must point at 127.0.0.1, not " + host);
        }
    }

    private static byte[] randomBytes(int n) {
        byte[] bytes = new byte[n];
        new SecureRandom().nextBytes(bytes);
        return bytes;
    }

    private static void say(String line) {
        System.out.println("[bench] " + line);
        System.out.flush();
    }
}
