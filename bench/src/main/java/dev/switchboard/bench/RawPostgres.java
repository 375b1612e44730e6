package dev.switchboard.bench;

import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * (a) What PostgreSQL itself does with rows of the event log's shape, in a scratch schema
 * {@code bench} of the run's database: tables shaped exactly like delivery's {@code events},
 * {@code dedup} and {@code partitions}, every write committed ({@code synchronous_commit} as the
 * server has it). Each method warms up, then counts rows committed during the measured interval.
 */
final class RawPostgres {

    static final String TENANT = "bench";
    static final String TOPIC = "bench.scratch";
    static final int ROWS_PER_INSERT = 100;
    static final int ROWS_PER_COPY = 10_000;

    /** @param machineBusyPercent the whole machine's CPU use during the measured interval */
    record Result(String method, int connections, long rows, double seconds, double machineBusyPercent) {

        double rowsPerSecond() {
            return rows / seconds;
        }
    }

    /**
     * One method over several rounds: the median round (the rate reported and compared with), and
     * the lowest and highest. The rate of one method moves a lot between runs on this machine (the
     * 1-connection INSERT gave 44k–106k rows/s on 2026-12-01, the slow ones often the first method
     * of a run), so one sample says little.
     */
    record Summary(String method, int connections, List<Result> rounds) {

        Summary {
            rounds = rounds.stream().sorted(Comparator.comparingDouble(Result::rowsPerSecond)).toList();
        }

        Result median() {
            return rounds.get((rounds.size() - 1) / 2);
        }

        double rowsPerSecond() {
            return median().rowsPerSecond();
        }

        double machineBusyPercent() {
            return median().machineBusyPercent();
        }

        double min() {
            return rounds.get(0).rowsPerSecond();
        }

        double max() {
            return rounds.get(rounds.size() - 1).rowsPerSecond();
        }
    }

    private final PgUrl database;
    private final Events events;
    private final Duration warmup;
    private final Duration measure;
    private final List<String> envelopes = new ArrayList<>();

    RawPostgres(PgUrl database, Events events, Duration warmup, Duration measure) {
        this.database = database;
        this.events = events;
        this.warmup = warmup;
        this.measure = measure;
        // Prepared once, so the client's own string building does not compete with PostgreSQL for the CPU.
        for (int i = 0; i < 1000; i++) {
            envelopes.add(events.envelope(TENANT, TOPIC, i + 1L));
        }
    }

    /** Bytes of the envelopes written (the server stores the same for a {@value Events#EVENT_BYTES}-byte event). */
    int averageEnvelopeBytes() {
        return (int) envelopes.stream().mapToInt(e -> e.getBytes(java.nio.charset.StandardCharsets.UTF_8).length).average().orElse(0);
    }

    void createScratchTables() throws SQLException {
        try (Connection c = database.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA bench");
            // The same shape as delivery's tables: key collations (delivery migration V2), no index on
            // dedup's expiry (V3).
            s.execute("""
                    CREATE TABLE bench.events (
                        tenant_id   text COLLATE "C" NOT NULL,
                        topic       text COLLATE "C" NOT NULL,
                        partition   integer     NOT NULL,
                        seq         bigint      NOT NULL,
                        id          text COLLATE "C" NOT NULL,
                        accepted_at timestamptz NOT NULL,
                        expires_at  timestamptz,
                        envelope    text        NOT NULL,
                        PRIMARY KEY (tenant_id, topic, partition, seq))""");
            s.execute("""
                    CREATE TABLE bench.partitions (
                        tenant_id text COLLATE "C" NOT NULL,
                        topic     text COLLATE "C" NOT NULL,
                        partition integer NOT NULL,
                        head      bigint  NOT NULL DEFAULT 0,
                        first_seq bigint  NOT NULL DEFAULT 1,
                        PRIMARY KEY (tenant_id, topic, partition))""");
            s.execute("""
                    CREATE TABLE bench.dedup (
                        tenant_id  text COLLATE "C" NOT NULL,
                        topic      text COLLATE "C" NOT NULL,
                        id         text COLLATE "C" NOT NULL,
                        partition  integer     NOT NULL,
                        seq        bigint      NOT NULL,
                        expires_at timestamptz NOT NULL,
                        PRIMARY KEY (tenant_id, topic, id))""");
        }
    }

    /** Empties the scratch tables and asks for a checkpoint, so each method starts from the same state. */
    void reset() {
        try (Connection c = database.connect(); Statement s = c.createStatement()) {
            s.execute("TRUNCATE bench.events, bench.partitions, bench.dedup");
            checkpoint(s);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Best effort: only a superuser may; a checkpoint left for later only adds noise. */
    static void checkpoint(Statement s) {
        try {
            s.execute("CHECKPOINT");
        } catch (SQLException e) {
            // not allowed: carry on
        }
    }

    /** 100-row {@code INSERT ... VALUES (...), (...)} statements, each its own transaction, from {@code connections} connections. */
    Result multiRowInsert(int connections) throws Exception {
        StringBuilder sql = new StringBuilder("INSERT INTO bench.events (tenant_id, topic, partition, seq, id, accepted_at, expires_at, envelope) VALUES ");
        for (int i = 0; i < ROWS_PER_INSERT; i++) {
            sql.append(i == 0 ? "" : ",").append("(?,?,?,?,?,?,?,?)");
        }
        return parallel("100-row INSERT, one commit per statement", connections, (c, partition, window) -> {
            long rows = 0;
            long seq = 0;
            try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
                while (!window.over()) {
                    int p = 1;
                    Timestamp now = Timestamp.from(Instant.now());
                    for (int i = 0; i < ROWS_PER_INSERT; i++) {
                        seq++;
                        ps.setString(p++, TENANT);
                        ps.setString(p++, TOPIC);
                        ps.setInt(p++, partition);
                        ps.setLong(p++, seq);
                        ps.setString(p++, "r" + partition + "-" + seq);
                        ps.setTimestamp(p++, now);
                        ps.setNull(p++, Types.TIMESTAMP_WITH_TIMEZONE);
                        ps.setString(p++, envelopes.get((int) (seq % envelopes.size())));
                    }
                    ps.executeUpdate();
                    if (window.measuring()) {
                        rows += ROWS_PER_INSERT;
                    }
                }
            }
            return rows;
        });
    }

    /** {@code COPY ... FROM STDIN} of 10,000 rows per statement (each its own transaction), one connection. */
    Result copy() throws Exception {
        return parallel("COPY, 10,000 rows per statement", 1, (c, partition, window) -> {
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            long rows = 0;
            long seq = 0;
            StringBuilder text = new StringBuilder(ROWS_PER_COPY * 450);
            while (!window.over()) {
                text.setLength(0);
                String now = Instant.now().toString();
                for (int i = 0; i < ROWS_PER_COPY; i++) {
                    seq++;
                    // Text format; the envelopes hold no tab, newline or backslash, so nothing needs escaping.
                    text.append(TENANT).append('\t').append(TOPIC).append('\t').append(partition).append('\t').append(seq)
                            .append('\t').append('r').append(seq).append('\t').append(now).append("\t\\N\t")
                            .append(envelopes.get((int) (seq % envelopes.size()))).append('\n');
                }
                copy.copyIn("COPY bench.events (tenant_id, topic, partition, seq, id, accepted_at, expires_at, envelope) FROM STDIN",
                        new ByteArrayInputStream(text.toString().getBytes(StandardCharsets.UTF_8)));
                if (window.measuring()) {
                    rows += ROWS_PER_COPY;
                }
            }
            return rows;
        });
    }

    /**
     * delivery-service's own transaction, statement for statement (head update, dedup keys by COPY
     * — their unique key is the duplicate check; delivery looks duplicates up only when it fails —,
     * events by COPY, NOTIFY), with {@code eventsPerTransaction} events each,
     * over JDBC on one connection: the ceiling of the server's schema without HTTP, JSON or R2DBC.
     * (delivery sends its COPY data in binary format; here it is text, which needs no escaping for
     * these rows.)
     */
    Result serverTransaction(int eventsPerTransaction) throws Exception {
        return parallel("delivery's transaction (head + COPY dedup keys + COPY events + NOTIFY), " + eventsPerTransaction + " events/commit", 1,
                (c, partition, window) -> {
                    c.setAutoCommit(false);
                    CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
                    long rows = 0;
                    long n = 0;
                    try (PreparedStatement head = c.prepareStatement("""
                            INSERT INTO bench.partitions (tenant_id, topic, partition, head) VALUES (?, ?, ?, ?)
                            ON CONFLICT (tenant_id, topic, partition) DO UPDATE SET head = partitions.head + EXCLUDED.head
                            RETURNING head""");
                         PreparedStatement notify = c.prepareStatement("SELECT pg_notify('bench_heads', ?)")) {
                        int size = eventsPerTransaction;
                        StringBuilder dedupRows = new StringBuilder(size * 100);
                        StringBuilder eventRows = new StringBuilder(size * 450);
                        while (!window.over()) {
                            String[] ids = new String[size];
                            for (int i = 0; i < size; i++) {
                                ids[i] = "t" + partition + "-" + (++n);
                            }
                            head.setString(1, TENANT);
                            head.setString(2, TOPIC);
                            head.setInt(3, partition);
                            head.setLong(4, size);
                            long last;
                            try (var rs = head.executeQuery()) {
                                rs.next();
                                last = rs.getLong(1);
                            }
                            Instant now = Instant.now();
                            String accepted = now.toString();
                            String dedupExpires = now.plus(Duration.ofDays(1)).toString();
                            dedupRows.setLength(0);
                            eventRows.setLength(0);
                            for (int i = 0; i < size; i++) {
                                long seq = last - size + 1 + i;
                                dedupRows.append(TENANT).append('\t').append(TOPIC).append('\t').append(ids[i]).append('\t')
                                        .append(partition).append('\t').append(seq).append('\t').append(dedupExpires).append('\n');
                                eventRows.append(TENANT).append('\t').append(TOPIC).append('\t').append(partition).append('\t').append(seq)
                                        .append('\t').append(ids[i]).append('\t').append(accepted).append("\t\\N\t")
                                        .append(envelopes.get((int) (seq % envelopes.size()))).append('\n');
                            }
                            copy.copyIn("COPY bench.dedup (tenant_id, topic, id, partition, seq, expires_at) FROM STDIN",
                                    new ByteArrayInputStream(dedupRows.toString().getBytes(StandardCharsets.UTF_8)));
                            copy.copyIn("COPY bench.events (tenant_id, topic, partition, seq, id, accepted_at, expires_at, envelope) FROM STDIN",
                                    new ByteArrayInputStream(eventRows.toString().getBytes(StandardCharsets.UTF_8)));

                            notify.setString(1, TENANT + "/" + TOPIC + "/" + partition + "/" + last);
                            notify.executeQuery().close();
                            c.commit();
                            if (window.measuring()) {
                                rows += size;
                            }
                        }
                    }
                    return rows;
                });
    }

    @FunctionalInterface
    private interface Worker {
        long run(Connection c, int partition, Window window) throws Exception;
    }

    /** The warm-up and measured interval, shared by all workers of one method. */
    private record Window(long measureFrom, long measureTo) {

        boolean measuring() {
            long now = System.nanoTime();
            return now >= measureFrom && now < measureTo;
        }

        boolean over() {
            return System.nanoTime() >= measureTo;
        }
    }

    private Result parallel(String method, int connections, Worker worker) throws Exception {
        reset();
        List<Connection> open = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(connections);
        try {
            for (int i = 0; i < connections; i++) {
                open.add(database.connect());
            }
            long start = System.nanoTime();
            Window window = new Window(start + warmup.toNanos(), start + warmup.toNanos() + measure.toNanos());
            List<Future<Long>> futures = new ArrayList<>();
            for (int i = 0; i < connections; i++) {
                Connection c = open.get(i);
                int partition = i;
                futures.add(pool.submit(() -> worker.run(c, partition, window)));
            }
            BatchPublish.sleepUntil(window.measureFrom());
            long[] a = Machine.machineJiffies();
            BatchPublish.sleepUntil(window.measureTo());
            long[] b = Machine.machineJiffies();
            long rows = 0;
            for (Future<Long> f : futures) {
                rows += f.get();
            }
            double busy = b[1] - a[1] <= 0 ? Double.NaN : 100.0 * (b[0] - a[0]) / (b[1] - a[1]);
            return new Result(method, connections, rows, measure.toNanos() / 1e9, busy);
        } finally {
            pool.shutdownNow();
            for (Connection c : open) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // closing
                }
            }
        }
    }
}
