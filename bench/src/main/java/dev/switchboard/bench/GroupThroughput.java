package dev.switchboard.bench;

import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Part 2 of {@link BackpressureBenchMain}: events/s acked by {@code consumers} consumers of one
 * group taking batches of {@code batch}, for the same N rows of the same size, in one run:
 * <ul>
 *   <li>Switchboard: {@code POST …/groups/workers/poll} then {@code …/ack} through the gateway
 *       (each a committed transaction: the lease, then the ack);</li>
 *   <li>NATS JetStream (Debian's nats-server, a file-backed stream, one durable pull consumer through
 *       jnats): {@code fetch(batch)}, every message acked, the last one with {@code ackSync} so the
 *       batch's acks are confirmed;</li>
 *   <li>a bare PostgreSQL queue: {@code SELECT … FOR UPDATE SKIP LOCKED LIMIT batch}, then
 *       {@code DELETE} of those rows, one transaction per batch, over JDBC.</li>
 * </ul>
 * Each result is checked: every event acked once (group committed = head with nothing in flight;
 * the consumer's ack floor = N with nothing pending; the queue empty).
 */
final class GroupThroughput {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Duration LIMIT = Duration.ofMinutes(10);

    /**
     * @param compilerShare the C2 compiler's share of the platform's CPU during the round (NaN: a peer)
     * @param cpu           cores' worth used during the round by the platform and the run database's PostgreSQL backends (NONE: a peer)
     */
    record Result(String system, long events, double seconds, Latency batches, String verified, double compilerShare, CpuSampler.Use cpu) {
        double perSecond() {
            return events / seconds;
        }
    }

    private final BackpressureBenchMain bench;
    private final Platform platform;
    private final PgUrl database;
    private final Path work;
    private final int events;
    private final int consumers;
    private final int batch;
    private final Duration warmup;

    GroupThroughput(BackpressureBenchMain bench, Platform platform, PgUrl database, Path work) {
        this.bench = bench;
        this.platform = platform;
        this.database = database;
        this.work = work;
        this.events = bench.num("SWITCHBOARD_BPBENCH_EVENTS", 100_000);
        this.consumers = bench.num("SWITCHBOARD_BPBENCH_CONSUMERS", 4);
        this.batch = bench.num("SWITCHBOARD_BPBENCH_BATCH", 100);
        this.warmup = Duration.ofSeconds(bench.num("SWITCHBOARD_BPBENCH_GROUP_WARMUP_SECONDS", 120));
    }

    void run() throws Exception {
        Api api = new Api(platform);
        api.createTenant("groups");
        String key = api.createKey("groups", "bench-groups", "publish", "subscribe");
        List<Result> results = new ArrayList<>();
        results.add(switchboard(api, key, "cg.cold", "Switchboard, first round (cold)", true));
        // Warm-up: rounds of both kinds until the platform has run its consumer-group path for a while.
        long warmStart = System.nanoTime();
        int round = 0;
        while (System.nanoTime() - warmStart < warmup.toNanos()) {
            switchboard(api, key, "cg.warmup" + round, "warm-up round " + round, round % 2 == 0);
            round++;
        }
        double warmedSeconds = (System.nanoTime() - warmStart) / 1e9;
        results.add(switchboard(api, key, "cg.warm", String.format(Locale.ROOT, "Switchboard, ack carried by the next poll (after %.0f s of warm-up)",
                warmedSeconds), true));
        results.add(switchboard(api, key, "cg.warm2", "Switchboard, poll then ack (two requests a batch)", false));
        // The peers run with the platform paused, so its JIT compiler (still busy after minutes here) takes none of their CPU.
        platform.pause(true);
        try {
            results.add(jetStream());
            results.add(bareQueue());
        } finally {
            platform.pause(false);
        }
        report(results);
    }

    /**
     * One round of {@link #events} events through a group of {@link #consumers} consumers on a new
     * topic. {@code ackInPoll}: each poll carries the acks of the consumer's last batch (one
     * request a batch, and a last ack at the end); else a poll, then an ack.
     */
    private Result switchboard(Api api, String key, String topic, String label, boolean ackInPoll) throws Exception {
        api.declareTopic("groups", topic);
        Events payloads = new Events(topic);
        try (LoadClient load = new LoadClient("cg-load", platform.gateway(), key, 8)) {
            List<CompletableFuture<LoadClient.Reply>> pending = new ArrayList<>();
            for (int sent = 0; sent < events; sent += 100) {
                pending.add(load.post("/v1/topics/" + topic + "/events", LoadClient.BATCH, payloads.batch(0, Math.min(100, events - sent))).toFuture());
                if (pending.size() == 16) {
                    awaitCreated(pending);
                }
            }
            awaitCreated(pending);
        }
        String group = "/v1/topics/" + topic + "/groups/workers";
        Latency latency = new Latency();
        AtomicLong acked = new AtomicLong();
        AtomicLong leased = new AtomicLong();
        long deadline = System.nanoTime() + LIMIT.toNanos();
        Map<String, Double> cpuBefore = Machine.threadGroupCpuSeconds(platform.pid());
        java.sql.Connection monitor = database.connect();
        CpuSampler sampler = new CpuSampler(platform.pid(), monitor);
        CpuSampler.Snapshot cpuStart = sampler.snapshot();
        double seconds = race(c -> {
            String consumer = "c" + c;
            try (LoadClient client = new LoadClient("cg-" + consumer, platform.gateway(), key, 1)) {
                List<Long> unacked = List.of();
                long t0 = System.nanoTime();
                // Until every event was leased (none is redelivered: the deadline is longer than the round).
                while (leased.get() < events && System.nanoTime() < deadline) {
                    String ack = ackInPoll && !unacked.isEmpty() ? ",\"ack\":[{\"seqs\":" + unacked + "}]" : "";
                    LoadClient.Reply polled = client.post(group + "/poll", "application/json", ("{\"max\":" + batch
                            + ",\"ackDeadlineMs\":60000,\"waitMs\":1000,\"consumer\":\"" + consumer + "\"" + ack + "}").getBytes()).block(LIMIT);
                    require(polled, 200);
                    JsonNode answer = JSON.readTree(polled.body());
                    if (!ack.isEmpty()) {
                        requireAcked(answer.path("acks").path(0), unacked.size());
                        latency.recordNanos(System.nanoTime() - t0);
                        acked.addAndGet(unacked.size());
                        unacked = List.of();
                    }
                    List<Long> seqs = new ArrayList<>();
                    answer.path("events").forEach(e -> seqs.add(e.path("seq").asLong()));
                    if (seqs.isEmpty()) {
                        continue;
                    }
                    leased.addAndGet(seqs.size());
                    if (ackInPoll) {
                        t0 = System.nanoTime();
                        unacked = seqs;
                        continue;
                    }
                    LoadClient.Reply ackReply = client.post(group + "/ack", "application/json", ("{\"seqs\":" + seqs + "}").getBytes()).block(LIMIT);
                    require(ackReply, 200);
                    requireAcked(JSON.readTree(ackReply.body()), seqs.size());
                    latency.recordNanos(System.nanoTime() - t0);
                    acked.addAndGet(seqs.size());
                    t0 = System.nanoTime();
                }
                if (!unacked.isEmpty()) {
                    LoadClient.Reply last = client.post(group + "/ack", "application/json", ("{\"seqs\":" + unacked + "}").getBytes()).block(LIMIT);
                    require(last, 200);
                    requireAcked(JSON.readTree(last.body()), unacked.size());
                    latency.recordNanos(System.nanoTime() - t0);
                    acked.addAndGet(unacked.size());
                }
            }
        });
        CpuSampler.Use cpu = CpuSampler.between(cpuStart, sampler.snapshot());
        monitor.close();
        double compilerShare = Machine.compilerShare(cpuBefore, Machine.threadGroupCpuSeconds(platform.pid()));
        JsonNode status;
        try (LoadClient client = new LoadClient("cg-status", platform.gateway(), key, 1)) {
            status = JSON.readTree(client.get(group).block(LIMIT).body());
        }
        boolean ok = acked.get() == events && status.path("lag").asLong(-1) == 0 && status.path("inFlight").asLong(-1) == 0;
        String verified = (ok ? "yes" : "NO") + ": acked " + acked.get() + ", group " + status;
        System.out.printf(Locale.ROOT, "[groups] %s: %,.0f events/s (%s)%n", label, acked.get() / seconds, verified);
        return new Result(label, acked.get(), seconds, latency, ok ? "yes" : "no (" + verified + ")", compilerShare, cpu);
    }

    /** A worker of a race: consumer {@code index} of {@link #consumers}. */
    private interface Worker {
        void run(int index) throws Exception;
    }

    /** Runs one {@code worker} per consumer, each on a thread of its own; the seconds from the start to the last one's end. */
    private double race(Worker worker) throws Exception {
        long start = System.nanoTime();
        ExecutorService threads = Executors.newFixedThreadPool(consumers);
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int c = 0; c < consumers; c++) {
                int index = c;
                workers.add(threads.submit(() -> {
                    worker.run(index);
                    return null;
                }));
            }
            for (Future<?> w : workers) {
                w.get(LIMIT.toSeconds() + 60, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdown();
        }
        return (System.nanoTime() - start) / 1e9;
    }

    private static void awaitCreated(List<CompletableFuture<LoadClient.Reply>> pending) throws Exception {
        for (CompletableFuture<LoadClient.Reply> f : pending) {
            require(f.get(60, TimeUnit.SECONDS), 201);
        }
        pending.clear();
    }

    /** An ack's answer acked all {@code n} seqs: none ignored (each event acked once, by its one lease). */
    private static void requireAcked(JsonNode answer, int n) {
        if (answer.path("acked").size() != n || !answer.path("ignored").isEmpty()) {
            throw new IllegalStateException("expected " + n + " seqs acked, got " + answer);
        }
    }

    private static void require(LoadClient.Reply reply, int status) {
        if (reply == null || reply.status() != status) {
            throw new IllegalStateException("expected " + status + ", got " + (reply == null ? "nothing" : reply.status() + ": " + reply.body()));
        }
    }

    private Result jetStream() throws Exception {
        int port = Platform.freePorts(1)[0];
        Path store = Files.createDirectories(work.resolve("jetstream"));
        Process nats = new ProcessBuilder(bench.env("SWITCHBOARD_BPBENCH_NATS_SERVER", "/usr/sbin/nats-server"),
                "-a", "127.0.0.1", "-p", Integer.toString(port), "-js", "-sd", store.toString())
                .redirectErrorStream(true).redirectOutput(work.resolve("nats.log").toFile()).start();
        try {
            awaitPort(port);
            String url = "nats://127.0.0.1:" + port;
            byte[] payload = new Events("js").single(0);
            try (Connection nc = Nats.connect(new Options.Builder().server(url).build())) {
                JetStreamManagement jsm = nc.jetStreamManagement();
                jsm.addStream(StreamConfiguration.builder().name("BENCH").subjects("bench.jobs").storageType(StorageType.File).build());
                JetStream js = nc.jetStream();
                List<CompletableFuture<PublishAck>> acks = new ArrayList<>();
                for (int i = 0; i < events; i++) {
                    acks.add(js.publishAsync("bench.jobs", payload));
                    if (acks.size() == 1000) {
                        for (CompletableFuture<PublishAck> a : acks) {
                            a.get(30, TimeUnit.SECONDS);
                        }
                        acks.clear();
                    }
                }
                for (CompletableFuture<PublishAck> a : acks) {
                    a.get(30, TimeUnit.SECONDS);
                }
                jsm.addOrUpdateConsumer("BENCH", ConsumerConfiguration.builder().durable("workers").filterSubject("bench.jobs").ackPolicy(AckPolicy.Explicit)
                        .ackWait(Duration.ofSeconds(60)).maxAckPending(consumers * batch * 4L).build());
            }
            Latency latency = new Latency();
            AtomicLong acked = new AtomicLong();
            long deadline = System.nanoTime() + LIMIT.toNanos();
            double seconds = race(c -> {
                try (Connection nc = Nats.connect(new Options.Builder().server(url).build())) {
                    JetStreamSubscription sub = nc.jetStream().subscribe("bench.jobs", PullSubscribeOptions.bind("BENCH", "workers"));
                    while (acked.get() < events && System.nanoTime() < deadline) {
                        long t0 = System.nanoTime();
                        List<Message> messages = sub.fetch(batch, Duration.ofSeconds(1));
                        if (messages.isEmpty()) {
                            continue;
                        }
                        for (int i = 0; i < messages.size() - 1; i++) {
                            messages.get(i).ack();
                        }
                        // One confirmed ack at the end: the server has processed the batch's acks before it.
                        messages.get(messages.size() - 1).ackSync(Duration.ofSeconds(10));
                        latency.recordNanos(System.nanoTime() - t0);
                        acked.addAndGet(messages.size());
                    }
                }
            });
            ConsumerInfo info;
            try (Connection nc = Nats.connect(new Options.Builder().server(url).build())) {
                info = nc.jetStreamManagement().getConsumerInfo("BENCH", "workers");
            }
            boolean ok = acked.get() == events && info.getAckFloor().getStreamSequence() == events && info.getNumAckPending() == 0;
            System.out.printf(Locale.ROOT, "[groups] JetStream: %,.0f events/s (ack floor %d, pending %d)%n", acked.get() / seconds,
                    info.getAckFloor().getStreamSequence(), info.getNumAckPending());
            return new Result("NATS JetStream " + version(), acked.get(), seconds, latency, ok ? "yes"
                    : "no (ack floor " + info.getAckFloor().getStreamSequence() + ", pending " + info.getNumAckPending() + ")", Double.NaN, CpuSampler.Use.NONE);
        } finally {
            nats.destroy();
            nats.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private String version() {
        try {
            Process p = new ProcessBuilder(bench.env("SWITCHBOARD_BPBENCH_NATS_SERVER", "/usr/sbin/nats-server"), "--version")
                    .redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            p.waitFor(10, TimeUnit.SECONDS);
            return text.replace("nats-server: ", "");
        } catch (Exception e) {
            return "";
        }
    }

    private static void awaitPort(int port) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                return;
            } catch (java.io.IOException e) {
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("nats-server did not open port " + port);
    }

    private Result bareQueue() throws Exception {
        try (java.sql.Connection c = database.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA bare");
            s.execute("CREATE TABLE bare.queue (tenant_id text NOT NULL, topic text NOT NULL, seq bigint NOT NULL, payload bytea NOT NULL,"
                    + " PRIMARY KEY (tenant_id, topic, seq))");
            s.execute("INSERT INTO bare.queue SELECT 'groups', 'cg', g, convert_to(repeat('x', " + Events.EVENT_BYTES + "), 'UTF8')"
                    + " FROM generate_series(1, " + events + ") g");
            s.execute("ANALYZE bare.queue");
        }
        Latency latency = new Latency();
        AtomicLong acked = new AtomicLong();
        long deadline = System.nanoTime() + LIMIT.toNanos();
        double seconds = race(w -> {
            try (java.sql.Connection c = database.connect()) {
                c.setAutoCommit(false);
                PreparedStatement take = c.prepareStatement("SELECT seq, payload FROM bare.queue WHERE tenant_id = 'groups' AND topic = 'cg'"
                        + " ORDER BY seq LIMIT " + batch + " FOR UPDATE SKIP LOCKED");
                PreparedStatement done = c.prepareStatement("DELETE FROM bare.queue WHERE tenant_id = 'groups' AND topic = 'cg' AND seq = ANY (?)");
                while (System.nanoTime() < deadline) {
                    long t0 = System.nanoTime();
                    List<Long> seqs = new ArrayList<>();
                    try (ResultSet rs = take.executeQuery()) {
                        while (rs.next()) {
                            seqs.add(rs.getLong(1));
                            rs.getBytes(2);
                        }
                    }
                    if (seqs.isEmpty()) {
                        c.commit();
                        break;
                    }
                    Array array = c.createArrayOf("bigint", seqs.toArray());
                    done.setArray(1, array);
                    done.executeUpdate();
                    c.commit();
                    latency.recordNanos(System.nanoTime() - t0);
                    acked.addAndGet(seqs.size());
                }
            }
        });
        long left;
        try (java.sql.Connection c = database.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM bare.queue")) {
            rs.next();
            left = rs.getLong(1);
        }
        System.out.printf(Locale.ROOT, "[groups] bare queue: %,.0f events/s (%d left)%n", acked.get() / seconds, left);
        return new Result("bare PostgreSQL SKIP LOCKED queue", acked.get(), seconds, latency,
                acked.get() == events && left == 0 ? "yes" : "no (" + left + " rows left)", Double.NaN, CpuSampler.Use.NONE);
    }

    private void report(List<Result> results) {
        bench.say("## Consumer-group throughput");
        bench.say("");
        bench.say(events + " events of " + Events.EVENT_BYTES + " bytes per system, " + consumers + " consumers in one group, batches of "
                + batch + "; acked/s = events ÷ time from the first poll to the last confirmed ack; batch = from a batch's"
                + " arrival (or its poll) to its ack confirmed. Switchboard goes through the gateway over HTTP and commits every"
                + " lease and every ack before it answers: with the ack carried by the next poll that is one request a batch, else"
                + " two. JetStream 2.9 acknowledges before it syncs to disk (no `sync_interval` in this version), while Switchboard"
                + " commits first; the bare queue takes and deletes a batch in one transaction over JDBC, with no HTTP, no leases"
                + " and no redelivery. The first round runs on a platform just started; the warm rows after the warm-up rounds. The"
                + " peers run with the platform's process paused (SIGSTOP), so nothing of it competes for their CPU.");
        bench.say("");
        bench.say("| system | events/s acked | batch p50 | batch p99 | seconds | CPU per 100 events: platform · its PG backends | C2 compiler's share of the platform's CPU | every event acked once |");
        bench.say("|---|---:|---:|---:|---:|---:|---:|---|");
        for (Result r : results) {
            String cpu = Double.isNaN(r.cpu().platform()) ? "–" : String.format(Locale.ROOT, "%.1f ms · %.1f ms",
                    1000 * r.cpu().platform() * r.seconds() / (r.events() / 100.0), 1000 * r.cpu().backends() * r.seconds() / (r.events() / 100.0));
            bench.say(String.format(Locale.ROOT, "| %s | %,.0f | %s | %s | %.1f | %s | %s | %s |", r.system(), r.perSecond(),
                    BackpressureBenchMain.ms(r.batches().millis(50)), BackpressureBenchMain.ms(r.batches().millis(99)), r.seconds(), cpu,
                    Double.isNaN(r.compilerShare()) ? "–" : String.format(Locale.ROOT, "%.0f %%", 100 * r.compilerShare()), r.verified()));
        }
        Result cold = results.get(0);
        Result ours = results.get(1);
        Result jetStream = results.get(results.size() - 2);
        Result bare = results.get(results.size() - 1);
        bench.say("");
        bench.say(String.format(Locale.ROOT, "**Switchboard (warm) ÷ JetStream: %.2f** (target ≥ 1.0); **Switchboard (warm) ÷ bare queue: %.2f**"
                        + " (target ≥ 0.5). First round: %.2f and %.2f.", ours.perSecond() / jetStream.perSecond(),
                ours.perSecond() / bare.perSecond(), cold.perSecond() / jetStream.perSecond(), cold.perSecond() / bare.perSecond()));
        bench.say("");
    }

}
