package dev.switchboard.bench;

import io.netty.handler.codec.http.HttpResponseStatus;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;
import reactor.netty.resources.ConnectionProvider;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bench/workflow.sh}, issue #12: tokens from a model to browser WebSockets through a
 * workflow run (workflow-service → delivery's durable log → gateway fan-out), on the standalone
 * platform and the machine's PostgreSQL.
 * <ul>
 * <li>Added latency per token: 50 concurrent runs of a model step whose model — an
 * OpenAI-compatible server in this process, streaming SSE — emits a token every 50 ms
 * (1,000 tokens/s in all), each token carrying its emit time; one WebSocket per run, subscribed
 * to the run's output topic, takes the time each {@code ai.token} arrives. Cold (the platform's
 * first round), then warm (after warm-up rounds).</li>
 * <li>The floor: the same tokens, the same pace, sent by a bare Reactor Netty SSE endpoint in this
 * process straight to 50 Reactor Netty clients — no log, no durability.</li>
 * <li>Throughput: 50 concurrent runs of the built-in {@code echo} model streaming as fast as it can
 * (token interval 0): token events/s received by the 50 sockets.</li>
 * </ul>
 */
final class WorkflowBenchMain {

    static final String USAGE = """
            bench/workflow.sh — tokens from a model to browser sockets through workflow runs (issue #12)

              SWITCHBOARD_BENCH_DATABASE_URL     PostgreSQL server (default postgresql://postgres@127.0.0.1:5432/postgres)
              SWITCHBOARD_BENCH_PLATFORM_JAR     default standalone/target/switchboard-standalone.jar
              SWITCHBOARD_BENCH_PLATFORM_JAVA_OPTS  JVM options of the platform process
              SWITCHBOARD_WFBENCH_RUNS           concurrent runs (default 50)
              SWITCHBOARD_WFBENCH_PACE_MS        the paced model's interval between tokens (default 50: 20 tokens/s a run)
              SWITCHBOARD_WFBENCH_TOKENS         tokens of a paced run (default 200: 10 s at 50 ms)
              SWITCHBOARD_WFBENCH_ECHO_TOKENS    tokens of an echo run in the throughput round (default 2000)
              SWITCHBOARD_WFBENCH_WARMUP_SECONDS warm-up rounds between cold and warm (default 60)
              SWITCHBOARD_WFBENCH_DOCS           folder of the dated report (default docs/benchmarks; - only prints)
            """;

    private static final Pattern SCRIPT = Pattern.compile("n=(\\d+) pace=(\\d+)");
    private static final Pattern STAMP = Pattern.compile("t(\\d{13,})");
    private static final String TENANT = "wfbench";

    private final Map<String, String> env;
    private final List<String> lines = new ArrayList<>();

    private WorkflowBenchMain(Map<String, String> env) {
        this.env = env;
    }

    static void main(String[] args) throws Exception {
        if (args.length > 0 && (args[0].equals("-h") || args[0].equals("--help"))) {
            System.out.print(USAGE);
            return;
        }
        new WorkflowBenchMain(System.getenv()).run();
    }

    private int num(String name, int fallback) {
        String v = env.get(name);
        return v == null || v.isBlank() ? fallback : Integer.parseInt(v.trim());
    }

    private void say(String line) {
        System.out.println(line);
        lines.add(line);
    }

    static long nowMicros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1000;
    }

    /** A round's outcome: latency from emit to receive, tokens received, how long from the first to the last. */
    record Round(Latency latency, long tokens, double seconds) {
        double tokensPerSecond() {
            return seconds <= 0 ? 0 : tokens / seconds;
        }
    }

    private void run() throws Exception {
        ZonedDateTime started = ZonedDateTime.now(ZoneOffset.UTC);
        PgUrl server = PgUrl.parse(env.getOrDefault("SWITCHBOARD_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"));
        Optional<Path> docs = DatedReports.folder("SWITCHBOARD_WFBENCH_DOCS", env.get("SWITCHBOARD_WFBENCH_DOCS"));
        Path jar = Path.of(env.getOrDefault("SWITCHBOARD_BENCH_PLATFORM_JAR", "standalone/target/switchboard-standalone.jar"));
        int runs = num("SWITCHBOARD_WFBENCH_RUNS", 50);
        int pace = num("SWITCHBOARD_WFBENCH_PACE_MS", 50);
        int tokens = num("SWITCHBOARD_WFBENCH_TOKENS", 200);
        int echoTokens = num("SWITCHBOARD_WFBENCH_ECHO_TOKENS", 2000);
        Duration warmup = Duration.ofSeconds(num("SWITCHBOARD_WFBENCH_WARMUP_SECONDS", 60));
        String runId = HexFormat.of().formatHex(BackpressureBenchMain.random(4));
        PgUrl database = server.withDatabase("sbwfbench_" + runId);
        Path work = Files.createTempDirectory("sbwfbench");
        String settings;
        try (Connection c = server.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + database.database());
            settings = BackpressureBenchMain.show(s, "server_version") + ", fsync=" + BackpressureBenchMain.show(s, "fsync")
                    + ", synchronous_commit=" + BackpressureBenchMain.show(s, "synchronous_commit");
        }
        DisposableServer model = fakeModel();
        Path config = Files.createDirectories(work.resolve("overrides"));
        Files.writeString(config.resolve("workflow-service.yml"), """
                switchboard:
                  workflow:
                    echo:
                      token-interval: 0s
                    providers:
                      bench:
                        base-url: http://127.0.0.1:%d/v1
                """.formatted(model.port()));
        Platform platform = null;
        try {
            List<String> javaOptions = List.of(env.getOrDefault("SWITCHBOARD_BENCH_PLATFORM_JAVA_OPTS", "").split("\\s+")).stream()
                    .filter(o -> !o.isEmpty()).toList();
            platform = Platform.start(jar, database, work, config, javaOptions, HexFormat.of().formatHex(BackpressureBenchMain.random(24)));
            platform.awaitReady();
            say("Run of " + DatedReports.shown(started) + ": commit " + env.getOrDefault("SWITCHBOARD_BENCH_COMMIT", "?")
                    + "; " + Machine.cores() + " cores (" + Machine.cpuModel() + "), " + Machine.memory() + ", load average "
                    + Machine.loadAverage() + "; PostgreSQL " + settings + " on the same machine.");
            say("");
            Api api = new Api(platform);
            String secret = api.createTenant(TENANT, "{\"publishPerSecond\":1000000,\"burst\":10000000}");
            api.declareTopic(TENANT, "wf.%3E");
            String key = api.createKey(TENANT, "bench", "admin", "publish", "subscribe");
            String token = WsSystem.Switchboard.jwt(secret, TENANT, List.of("wf.>"), Duration.ofHours(2));
            savePipeline(platform, key, "paced", "bench", "m");
            savePipeline(platform, key, "echo", "echo", "echo-1");

            Round cold = paced(platform, key, token, runs, tokens, pace, "cold");
            long warmUntil = System.nanoTime() + warmup.toNanos();
            int warmRounds = 0;
            while (System.nanoTime() < warmUntil) {
                paced(platform, key, token, runs, tokens, pace, "warm-up " + (++warmRounds));
            }
            Round warm = paced(platform, key, token, runs, tokens, pace, "warm");
            Round floor = floor(runs, tokens, pace);
            Round echo = echo(platform, key, token, runs, echoTokens);
            report(runs, tokens, pace, echoTokens, warmup, warmRounds, cold, warm, floor, echo);
        } finally {
            if (platform != null) {
                platform.stop();
            }
            model.disposeNow(Duration.ofSeconds(5));
            try (Connection c = server.connect(); Statement s = c.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + database.database() + " WITH (FORCE)");
            }
        }
        if (docs.isPresent()) {
            Path file = DatedReports.write(docs.get(), "workflow", started, "Workflow token benchmark " + DatedReports.shown(started),
                    env.getOrDefault("SWITCHBOARD_BENCH_COMMAND", "bench/workflow.sh"), String.join("\n", lines));
            System.out.println("\nKept as " + file);
        }
    }

    private static void savePipeline(Platform platform, String key, String name, String provider, String modelName) throws Exception {
        String body = "{\"steps\":[{\"id\":\"ask\",\"type\":\"prompt\",\"template\":\"{{data.q}}\"},"
                + "{\"id\":\"answer\",\"type\":\"model\",\"input\":\"ask\",\"provider\":\"" + provider + "\",\"model\":\"" + modelName
                + "\",\"timeout\":\"PT5M\"}]}";
        HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(platform.gateway() + "/v1/pipelines/" + name)).header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 201) {
            throw new IllegalStateException("saving pipeline " + name + " answered " + r.statusCode() + ": " + r.body());
        }
    }

    /** The paced model: {@code POST /v1/chat/completions}, SSE chunks, each token {@code t<emit epoch µs> }. */
    private static DisposableServer fakeModel() {
        return HttpServer.create().host("127.0.0.1").port(0)
                .route(routes -> routes.post("/v1/chat/completions", (req, res) -> req.receive().aggregate().asString()
                        .flatMap(body -> {
                            Matcher m = SCRIPT.matcher(body);
                            boolean scripted = m.find();
                            int n = scripted ? Integer.parseInt(m.group(1)) : 10;
                            int pace = scripted ? Integer.parseInt(m.group(2)) : 50;
                            Flux<String> chunks = Flux.interval(Duration.ofMillis(pace)).take(n)
                                    .map(i -> "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
                                            + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"t" + nowMicros() + " \"},\"finish_reason\":null}]}\n\n")
                                    .concatWith(Flux.just("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
                                            + "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n", "data: [DONE]\n\n"));
                            return res.status(HttpResponseStatus.OK).header("Content-Type", "text/event-stream").sendString(chunks).then();
                        })))
                .bindNow(Duration.ofSeconds(10));
    }

    /** One socket per run, subscribed to its output topic, recording each ai.token's latency and count. */
    private static final class Sockets implements AutoCloseable {
        final Latency latency = new Latency();
        final AtomicLong tokens = new AtomicLong();
        final AtomicLong first = new AtomicLong();
        final AtomicLong last = new AtomicLong();
        final CountDownLatch completed;
        private final List<Disposable> sockets = new ArrayList<>();

        Sockets(Platform platform, String token, List<String> topics, boolean stamped) throws InterruptedException {
            completed = new CountDownLatch(topics.size());
            CountDownLatch subscribed = new CountDownLatch(topics.size());
            HttpClient client = HttpClient.create(ConnectionProvider.newConnection());
            for (String topic : topics) {
                Sinks.Many<String> out = Sinks.many().unicast().onBackpressureBuffer();
                sockets.add(client.websocket(reactor.netty.http.client.WebsocketClientSpec.builder().maxFramePayloadLength(1 << 20).build())
                        .uri("ws://127.0.0.1:" + platform.gatewayPort + "/v1/ws")
                        .handle((in, o) -> Mono.when(o.sendString(out.asFlux()).then(), in.receive().asString().doOnNext(text -> {
                            long now = nowMicros();
                            if (text.contains("\"ai.token\"")) {
                                tokens.incrementAndGet();
                                first.compareAndSet(0, System.nanoTime());
                                last.set(System.nanoTime());
                                if (stamped) {
                                    Matcher m = STAMP.matcher(text);
                                    if (m.find()) {
                                        latency.recordNanos((now - Long.parseLong(m.group(1))) * 1000);
                                    }
                                }
                            } else if (text.contains("\"ai.completed\"") || text.contains("\"ai.failed\"")) {
                                completed.countDown();
                            } else if (text.contains("\"op\":\"subscribed\"")) {
                                subscribed.countDown();
                            }
                        }).then())).subscribe());
                out.tryEmitNext("{\"op\":\"connect\",\"id\":1,\"token\":\"" + token + "\"}");
                out.tryEmitNext("{\"op\":\"subscribe\",\"id\":2,\"topic\":\"" + topic + "\"}");
            }
            if (!subscribed.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("not every socket subscribed");
            }
        }

        Round await(Duration within) throws InterruptedException {
            if (!completed.await(within.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException(completed.getCount() + " runs did not end within " + within);
            }
            return new Round(latency, tokens.get(), (last.get() - first.get()) / 1e9);
        }

        @Override
        public void close() {
            sockets.forEach(Disposable::dispose);
        }
    }

    private static void startRuns(Platform platform, String key, String pipeline, List<String> topics, String question) throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        for (String topic : topics) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(platform.gateway() + "/v1/pipelines/" + pipeline + "/runs"))
                    .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"data\":{\"q\":\"" + question + "\"},\"output\":\"" + topic + "\"}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 201) {
                throw new IllegalStateException("starting a run answered " + r.statusCode() + ": " + r.body());
            }
        }
    }

    private static final AtomicLong ROUNDS = new AtomicLong();

    private static List<String> topics(int runs) {
        long round = ROUNDS.incrementAndGet();
        List<String> topics = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            topics.add("wf.r" + round + ".run-" + i);
        }
        return topics;
    }

    private Round paced(Platform platform, String key, String token, int runs, int tokens, int pace, String name) throws Exception {
        List<String> topics = topics(runs);
        try (Sockets sockets = new Sockets(platform, token, topics, true)) {
            startRuns(platform, key, "paced", topics, "n=" + tokens + " pace=" + pace);
            Round round = sockets.await(Duration.ofSeconds(60L + tokens * pace / 1000L * 3));
            System.out.printf(Locale.ROOT, "[workflow] %s: %d tokens, p50 %.1f ms, p99 %.1f ms%n", name, round.tokens(),
                    round.latency().millis(50), round.latency().millis(99));
            return round;
        }
    }

    private Round echo(Platform platform, String key, String token, int runs, int tokens) throws Exception {
        List<String> topics = topics(runs);
        String question = ("w ".repeat(tokens)).strip();
        try (Sockets sockets = new Sockets(platform, token, topics, false)) {
            startRuns(platform, key, "echo", topics, question);
            Round round = sockets.await(Duration.ofMinutes(10));
            System.out.printf(Locale.ROOT, "[workflow] echo: %d tokens in %.1f s%n", round.tokens(), round.seconds());
            return round;
        }
    }

    /** The floor: a bare Reactor Netty SSE endpoint streaming the same stamped tokens at the same pace to Reactor Netty clients. */
    private Round floor(int runs, int tokens, int pace) throws Exception {
        DisposableServer sse = HttpServer.create().host("127.0.0.1").port(0)
                .route(routes -> routes.get("/tokens", (req, res) -> res.header("Content-Type", "text/event-stream")
                        .sendString(Flux.interval(Duration.ofMillis(pace)).take(tokens)
                                .map(i -> "event: ai.token\ndata: {\"text\":\"t" + nowMicros() + " \"}\n\n"))))
                .bindNow(Duration.ofSeconds(10));
        Latency latency = new Latency();
        AtomicLong received = new AtomicLong();
        AtomicLong first = new AtomicLong();
        AtomicLong last = new AtomicLong();
        try {
            HttpClient client = HttpClient.create(ConnectionProvider.newConnection());
            Flux.range(0, runs).flatMap(i -> client.get().uri("http://127.0.0.1:" + sse.port() + "/tokens")
                            .responseContent().asString(StandardCharsets.UTF_8).doOnNext(text -> {
                                long now = nowMicros();
                                Matcher m = STAMP.matcher(text);
                                while (m.find()) {
                                    latency.recordNanos((now - Long.parseLong(m.group(1))) * 1000);
                                    received.incrementAndGet();
                                    first.compareAndSet(0, System.nanoTime());
                                    last.set(System.nanoTime());
                                }
                            }), runs)
                    .blockLast(Duration.ofSeconds(60L + tokens * pace / 1000L * 3));
        } finally {
            sse.disposeNow(Duration.ofSeconds(5));
        }
        Round round = new Round(latency, received.get(), (last.get() - first.get()) / 1e9);
        System.out.printf(Locale.ROOT, "[workflow] floor: %d tokens, p50 %.1f ms, p99 %.1f ms%n", round.tokens(),
                latency.millis(50), latency.millis(99));
        return round;
    }

    private void report(int runs, int tokens, int pace, int echoTokens, Duration warmup, int warmRounds,
                        Round cold, Round warm, Round floor, Round echo) {
        double offered = runs * 1000.0 / pace;
        say("## Tokens from a model to browser sockets (issue #12)");
        say("");
        say(String.format(Locale.ROOT, "%d concurrent runs, each a model step whose OpenAI-compatible model (in the bench process, "
                + "real SSE) emits %d tokens, one every %d ms (%.0f tokens/s in all), each token carrying its emit time; "
                + "one WebSocket per run (an HS256 client JWT) subscribed to the run's own output topic takes each `ai.token`'s "
                + "arrival. Every token event is committed to PostgreSQL before it is delivered. Cold: the platform's first "
                + "round; warm: after %d warm-up rounds (%d s).", runs, tokens, pace, offered, warmRounds, warmup.toSeconds()));
        say("");
        say("| path | tokens received | tokens/s | added latency p50 | p99 | max |");
        say("|---|---|---|---|---|---|");
        row("Switchboard, cold (first round)", cold, runs * (long) tokens);
        row("Switchboard, warm", warm, runs * (long) tokens);
        row("bare Reactor Netty SSE, the floor (no log, no durability)", floor, runs * (long) tokens);
        say("");
        say(String.format(Locale.ROOT, "Warm p99 %.1f ms against the floor's %.1f ms: %.1f× the floor, %.1f ms added (target: "
                        + "p99 added latency ≤ 10 ms).", warm.latency().millis(99), floor.latency().millis(99),
                warm.latency().millis(99) / floor.latency().millis(99), warm.latency().millis(99) - floor.latency().millis(99)));
        say("");
        say(String.format(Locale.ROOT, "Throughput: %d concurrent runs of the built-in `echo` model with no pause between tokens "
                        + "(%d tokens each): %d token events reached the sockets in %.1f s, **%.0f token events/s** (each committed).",
                runs, echoTokens, echo.tokens(), echo.seconds(), echo.tokensPerSecond()));
    }

    private void row(String name, Round round, long expected) {
        say(String.format(Locale.ROOT, "| %s | %d of %d | %.0f | %.1f ms | %.1f ms | %.1f ms |", name, round.tokens(), expected,
                round.tokensPerSecond(), round.latency().millis(50), round.latency().millis(99), round.latency().maxMillis()));
    }
}
