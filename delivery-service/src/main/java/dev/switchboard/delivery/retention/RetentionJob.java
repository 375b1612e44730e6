package dev.switchboard.delivery.retention;

import dev.switchboard.platform.lifecycle.PeriodicWork;
import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.registry.TopicSettings;
import dev.switchboard.delivery.config.DeliveryProperties;
import dev.switchboard.delivery.durable.StreamStore;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.delivery.topic.TopicLookup;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.r2dbc.spi.Readable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Removes events past their topic's retention, and expired events, in bounded batches that walk
 * each partition from its oldest seq: every statement touches at most {@code retentionBatch} rows
 * through the primary key, never the whole table, and never takes the partition row lock longer
 * than one short UPDATE, so publishing carries on. Also prunes dedup keys whose window has passed
 * ({@link #pruneDedup()}).
 *
 * <p>{@code partitions.first_seq} records how far retention has gone, so a reader asking for older
 * seqs is told that its resume point is gone instead of silently skipping. A topic deleted from the
 * registry keeps the default retention ({@link TopicSettings#DEFAULT_RETENTION}) for what it left.
 */
@Component
public class RetentionJob extends PeriodicWork {

    private static final Logger log = LoggerFactory.getLogger(RetentionJob.class);
    private static final int PARTITIONS_PER_RUN = 1000;
    private static final int ROUNDS_PER_PARTITION = 20;
    /** Consecutive dedup pages one prune statement reads (2 MiB). */
    private static final int DEDUP_PAGES_PER_STATEMENT = 256;
    /** Rows of the dedup table a sweep reads per row inserted since the previous sweep. */
    private static final int DEDUP_READS_PER_WRITE = 4;
    /** Fewest dedup pages a sweep reads (8 MiB): a small table is read whole every sweep. */
    static final long DEDUP_MIN_PAGES_PER_SWEEP = 1024;
    /** Longest pause between two prune statements of a sweep. */
    private static final Duration DEDUP_MAX_PAUSE = Duration.ofMillis(100);

    private final DatabaseClient db;
    private final TopicLookup topics;
    private final StreamStore streams;
    private final DeliveryProperties properties;
    private final Counter removed;
    private final MultiGauge retained;
    private volatile PartitionRow resumeAfter = BEGINNING;
    /** The dedup page the next prune starts at. */
    private final AtomicLong dedupCursor = new AtomicLong();
    /** PostgreSQL's count of rows ever inserted into dedup at the previous sweep; -1 before the first. */
    private final AtomicLong dedupInserted = new AtomicLong(-1);

    RetentionJob(DatabaseClient db, TopicLookup topics, StreamStore streams, DeliveryProperties properties, MeterRegistry meters) {
        super(properties.retentionInterval(), properties.retentionInterval());
        this.db = db;
        this.topics = topics;
        this.streams = streams;
        this.properties = properties;
        this.removed = Counter.builder("switchboard.delivery.retention.removed")
                .description("Events removed by retention or expiry").register(meters);
        this.retained = MultiGauge.builder("switchboard.delivery.events.retained")
                .description("Events retained, by tenant (upper bound: counts expired events not yet swept)")
                .register(meters);
    }

    private record PartitionRow(String tenant, String topic, int partition, long firstSeq) {
    }

    /** Sorts before every real partition (names are never empty). */
    private static final PartitionRow BEGINNING = new PartitionRow("", "", -1, 0);

    /**
     * One sweep over up to {@code PARTITIONS_PER_RUN} partitions, continuing where the previous run
     * stopped (wrapping around), so every partition is visited however many there are. Returns the
     * number of events removed.
     */
    public Mono<Long> sweep() {
        PartitionRow start = resumeAfter;
        return db.sql("""
                        SELECT tenant_id, topic, partition, first_seq FROM partitions
                        WHERE (tenant_id, topic, partition) > (:tenant, :topic, :partition)
                        ORDER BY tenant_id, topic, partition LIMIT :n""")
                .bind("tenant", start.tenant()).bind("topic", start.topic()).bind("partition", start.partition())
                .bind("n", PARTITIONS_PER_RUN)
                .map((Readable r) -> new PartitionRow(r.get("tenant_id", String.class), r.get("topic", String.class),
                        r.get("partition", Integer.class), r.get("first_seq", Long.class)))
                .all()
                .collectList()
                .flatMap(rows -> {
                    resumeAfter = rows.size() < PARTITIONS_PER_RUN ? BEGINNING : rows.get(rows.size() - 1);
                    return Flux.fromIterable(rows)
                            .concatMap(p -> StreamStore.isStreamKey(p.topic()) ? sweepStream(p)
                                    : retentionOf(p).flatMap(retention -> sweepPartition(p, retention)))
                            .reduce(0L, Long::sum);
                })
                .flatMap(n -> pruneDedup().then(updateRetainedGauge()).thenReturn(n))
                .doOnNext(n -> removed.increment(n));
    }

    /**
     * A Durable Stream keeps everything while it lives. Once it is gone — deleted, expired (retired
     * here), or made anew under another key — its rows all go, and then its partition row.
     */
    private Mono<Long> sweepStream(PartitionRow p) {
        return streams.retireExpired(p.tenant(), p.topic())
                .then(streams.isGone(p.tenant(), p.topic()))
                .flatMap(gone -> !gone ? Mono.just(0L)
                        : sweepPartition(p, Duration.ZERO).flatMap(n -> streams.dropPartitionIfEmpty(p.tenant(), p.topic()).thenReturn(n)));
    }

    private Mono<Duration> retentionOf(PartitionRow p) {
        return topics.resolve(p.tenant(), p.topic())
                .map(t -> t.settings().retention())
                .onErrorResume(e -> e instanceof SwitchboardException s && s.code() == ErrorCode.TOPIC_NOT_FOUND,
                        e -> Mono.just(TopicSettings.DEFAULT_RETENTION));
    }

    private Mono<Long> sweepPartition(PartitionRow p, Duration retention) {
        Instant cutoff = Instant.now().minus(retention);
        return sweepRound(p, p.firstSeq(), cutoff)
                .expand(round -> round.continueFrom() > 0 ? sweepRound(p, round.continueFrom(), cutoff) : Mono.empty())
                .take(ROUNDS_PER_PARTITION)
                .map(Round::removed)
                .reduce(0L, Long::sum);
    }

    /** removed: rows deleted; continueFrom: next seq to look at when the whole page was past retention, else 0. */
    private record Round(long removed, long continueFrom) {
    }

    private Mono<Round> sweepRound(PartitionRow p, long from, Instant cutoff) {
        int batch = properties.retentionBatch();
        return db.sql("""
                        SELECT seq, accepted_at FROM events
                        WHERE tenant_id = :tenant AND topic = :topic AND partition = :partition AND seq >= :from
                        ORDER BY seq LIMIT :n""")
                .bind("tenant", p.tenant()).bind("topic", p.topic()).bind("partition", p.partition())
                .bind("from", from).bind("n", batch)
                .map((Readable r) -> new long[]{r.get("seq", Long.class),
                        r.get("accepted_at", OffsetDateTime.class).toInstant().isBefore(cutoff) ? 1 : 0})
                .all()
                .collectList()
                .flatMap(rows -> {
                    if (rows.isEmpty()) {
                        return Mono.just(new Round(0, 0));
                    }
                    long last = rows.get(rows.size() - 1)[0];
                    long retainedFrom = from;
                    for (long[] row : rows) {
                        if (row[1] == 0) {
                            break;
                        }
                        retainedFrom = row[0] + 1;
                    }
                    long firstKept = retainedFrom;
                    boolean allPast = firstKept > last;
                    return db.sql("""
                                    DELETE FROM events
                                    WHERE tenant_id = :tenant AND topic = :topic AND partition = :partition
                                      AND seq >= :from AND seq <= :last
                                      AND (seq < :firstKept OR expires_at <= now())""")
                            .bind("tenant", p.tenant()).bind("topic", p.topic()).bind("partition", p.partition())
                            .bind("from", from).bind("last", last).bind("firstKept", firstKept)
                            .fetch().rowsUpdated()
                            .flatMap(deleted -> advanceFirstSeq(p, firstKept)
                                    .thenReturn(new Round(deleted, allPast && rows.size() == batch ? firstKept : 0)));
                });
    }

    private Mono<Void> advanceFirstSeq(PartitionRow p, long firstKept) {
        return db.sql("""
                        UPDATE partitions SET first_seq = :firstKept
                        WHERE tenant_id = :tenant AND topic = :topic AND partition = :partition AND first_seq < :firstKept""")
                .bind("tenant", p.tenant()).bind("topic", p.topic()).bind("partition", p.partition())
                .bind("firstKept", firstKept)
                .then();
    }

    /**
     * Expired dedup keys, found by walking the table's pages in order rather than through an index
     * on {@code expires_at}. That index cost every publish a second B-tree insert per key (2–4 µs of
     * PostgreSQL CPU per event, measured with {@code INSERT … SELECT}; the benchmarks before and after
     * are in docs/benchmarks/2026-12-02.md) to serve a background job that can as well read the rows where they
     * lie. Each statement deletes the expired keys among
     * {@value #DEDUP_PAGES_PER_STATEMENT} consecutive pages (a TID range scan: no index, sequential
     * reads); a cursor carries the walk from sweep to sweep and wraps at the table's end, and the
     * statements of one sweep are spread over half the sweep interval ({@link #dedupPause}).
     *
     * <p>The pace follows the writes: a sweep reads {@value #DEDUP_READS_PER_WRITE} rows per row
     * inserted since the previous sweep (PostgreSQL's own counter, so every instance's publishes
     * count; each instance walks on its own), and at least {@value #DEDUP_MIN_PAGES_PER_SWEEP}
     * pages, so a small table is read whole every sweep. In a steady state a full pass then takes
     * a little over a quarter of the keys' window, an expired key waits at most that long, and the
     * table holds about a seventh more keys than are live. An expired key not yet removed is
     * harmless: a publish with its id takes it over; it only takes room.
     */
    private Mono<Void> pruneDedup() {
        return db.sql("""
                        SELECT s.n_tup_ins, s.n_live_tup, pg_relation_size(s.relid) / current_setting('block_size')::bigint AS pages
                        FROM pg_stat_user_tables s WHERE s.relid = 'dedup'::regclass""")
                .map((Readable r) -> new DedupTable(r.get("n_tup_ins", Long.class), r.get("n_live_tup", Long.class),
                        r.get("pages", Long.class)))
                .one()
                .flatMap(table -> {
                    long pages = dedupPagesToWalk(table);
                    return walkDedup(dedupCursor.get(), pages, table.pages(), dedupPause(pages));
                });
    }

    /**
     * The pause between two prune statements: the walk spread over half the sweep interval, so a
     * big table is not read in one burst that takes the CPU from publishes; at most
     * {@link #DEDUP_MAX_PAUSE}, so a small walk ends soon.
     */
    private Duration dedupPause(long pages) {
        long statements = Math.max(1, (pages + DEDUP_PAGES_PER_STATEMENT - 1) / DEDUP_PAGES_PER_STATEMENT);
        Duration spread = properties.retentionInterval().dividedBy(2 * statements);
        return spread.compareTo(DEDUP_MAX_PAUSE) < 0 ? spread : DEDUP_MAX_PAUSE;
    }

    /** Deletes expired keys {@value #DEDUP_PAGES_PER_STATEMENT} pages at a time from {@code from}, for {@code pages} pages, wrapping at the end, pausing between statements. */
    private Mono<Void> walkDedup(long from, long pages, long tablePages, Duration pause) {
        if (pages <= 0) {
            return Mono.empty();
        }
        long start = from < tablePages ? from : 0;
        long end = start + DEDUP_PAGES_PER_STATEMENT;
        return deleteExpiredKeys(start, end).then(Mono.defer(() -> {
            dedupCursor.set(end);
            long left = pages - DEDUP_PAGES_PER_STATEMENT;
            return left <= 0 ? Mono.<Void>empty()
                    : Mono.delay(pause).then(walkDedup(end, left, tablePages, pause));
        }));
    }

    private long dedupPagesToWalk(DedupTable table) {
        long previous = dedupInserted.getAndSet(table.inserted());
        long inserted = previous < 0 || table.inserted() < previous ? 0 : table.inserted() - previous;
        return dedupPagesToWalk(inserted, table.liveRows(), table.pages());
    }

    /**
     * Pages a sweep walks: {@code inserted} rows (since the previous sweep) times the read factor, in
     * pages of the table's present density; at least the minimum, at most the whole table.
     */
    static long dedupPagesToWalk(long inserted, long liveRows, long pages) {
        double rowsPerPage = pages > 0 && liveRows > 0 ? Math.max((double) liveRows / pages, 1) : 1;
        long walk = (long) Math.ceil(DEDUP_READS_PER_WRITE * inserted / rowsPerPage);
        return Math.min(Math.max(walk, DEDUP_MIN_PAGES_PER_SWEEP), Math.max(pages, 1));
    }

    private record DedupTable(long inserted, long liveRows, long pages) {
    }

    private Mono<Long> deleteExpiredKeys(long fromPage, long toPage) {
        return db.sql("""
                        DELETE FROM dedup
                        WHERE ctid >= format('(%s,0)', CAST(:from AS bigint))::tid AND ctid < format('(%s,0)', CAST(:to AS bigint))::tid
                          AND expires_at <= now()""")
                .bind("from", fromPage).bind("to", toPage)
                .fetch().rowsUpdated();
    }

    private Mono<Void> updateRetainedGauge() {
        return db.sql("SELECT tenant_id, sum(head - first_seq + 1) AS n FROM partitions GROUP BY tenant_id LIMIT 10000")
                .map((Readable r) -> MultiGauge.Row.of(Tags.of("tenant", r.get("tenant_id", String.class)),
                        r.get("n", Number.class).doubleValue()))
                .all()
                .collectList()
                .doOnNext(rows -> retained.register(List.copyOf(rows), true))
                .then();
    }

    @Override
    protected Mono<?> runOnce() {
        return sweep().doOnNext(n -> {
            if (n > 0) {
                log.debug("Retention removed {} events", n);
            }
        });
    }

    @Override
    protected void failed(Throwable e) {
        log.warn("Retention sweep failed; next run in {}: {}", properties.retentionInterval(), e.toString());
    }
}
