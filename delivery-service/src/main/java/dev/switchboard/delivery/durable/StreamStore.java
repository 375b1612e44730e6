package dev.switchboard.delivery.durable;

import dev.switchboard.delivery.stream.HeadNotifier;
import io.r2dbc.spi.Readable;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.r2dbc.core.Parameter;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The SQL of Durable Streams. Every statement is by key (tenant first) and bounded. The statements
 * that change a stream run inside a transaction of {@link DurableStreams} that first locks the
 * stream's row ({@link #lock}), so appends to one stream — and the producer checks that go with
 * them — are serialised across every delivery instance, while different streams commit in parallel.
 */
@Component
public class StreamStore {

    /** Every stream's log key starts with this; no topic name can ({@code TopicNames}). */
    static final String LOG_KEY_PREFIX = "~";
    /** How deep a chain of soft-deleted forks {@link #referenced} follows. */
    private static final int MAX_FORK_DEPTH = 32;

    private final DatabaseClient db;

    StreamStore(DatabaseClient db) {
        this.db = db;
    }

    /** Whether a log key (a {@code topic} of {@code partitions} and {@code events}) is a stream's. */
    public static boolean isStreamKey(String topic) {
        return topic.startsWith(LOG_KEY_PREFIX);
    }

    static String newLogKey() {
        return LOG_KEY_PREFIX + UUID.randomUUID();
    }

    private static final String SELECT_ROW = """
            SELECT path, log_key, content_type, ttl_seconds, expires_at, closed, writer_seq, base_seq, head,
                   forked_from, fork_source_key, fork_seq, fork_sub_offset, soft_deleted, deleted_at
            FROM streams WHERE tenant_id = :tenant AND path = :path""";

    /** The row at {@code path}, whatever its state; no lock. */
    Mono<StreamRow> find(String tenant, String path) {
        return db.sql(SELECT_ROW).bind("tenant", tenant).bind("path", path).map(StreamStore::row).one();
    }

    /**
     * The same, with the row locked until the transaction ends. Everything an append checks is in
     * this row, so a read that waited for another append's lock sees that append's result.
     */
    Mono<StreamRow> lock(String tenant, String path) {
        return db.sql(SELECT_ROW + " FOR UPDATE").bind("tenant", tenant).bind("path", path).map(StreamStore::row).one();
    }

    private static StreamRow row(Readable r) {
        OffsetDateTime expires = r.get("expires_at", OffsetDateTime.class);
        StreamRow.State state = r.get("deleted_at", OffsetDateTime.class) == null ? StreamRow.State.LIVE
                : Boolean.TRUE.equals(r.get("soft_deleted", Boolean.class)) ? StreamRow.State.SOFT_DELETED : StreamRow.State.DELETED;
        return new StreamRow(r.get("path", String.class), r.get("log_key", String.class), r.get("content_type", String.class),
                r.get("ttl_seconds", Long.class), expires == null ? null : expires.toInstant(), Boolean.TRUE.equals(r.get("closed", Boolean.class)),
                r.get("writer_seq", String.class), r.get("base_seq", Long.class), r.get("head", Long.class), r.get("forked_from", String.class),
                r.get("fork_source_key", String.class), r.get("fork_seq", Long.class), r.get("fork_sub_offset", Long.class), state);
    }

    /** Claims a path never used: a tombstone to lock; nothing when the path has a row already. */
    Mono<Void> insertPlaceholder(String tenant, String path) {
        return db.sql("""
                        INSERT INTO streams (tenant_id, path, log_key, content_type, base_seq, deleted_at)
                        VALUES (:tenant, :path, :key, :type, 0, now())
                        ON CONFLICT (tenant_id, path) DO NOTHING""")
                .bind("tenant", tenant).bind("path", path).bind("key", newLogKey()).bind("type", StreamContent.DEFAULT_TYPE)
                .fetch().rowsUpdated().then();
    }

    /** Makes the locked row at {@code row.path()} the live stream {@code row}, and opens its log partition at its head. */
    Mono<Void> create(String tenant, StreamRow row) {
        return db.sql("""
                        UPDATE streams SET log_key = :key, content_type = :type, ttl_seconds = :ttl, expires_at = :expires,
                               closed = false, writer_seq = NULL, base_seq = :base, head = :head, forked_from = :forkedFrom,
                               fork_source_key = :forkKey, fork_seq = :forkSeq, fork_sub_offset = :subOffset,
                               soft_deleted = false, created_at = now(), deleted_at = NULL
                        WHERE tenant_id = :tenant AND path = :path""")
                .bind("tenant", tenant).bind("path", row.path()).bind("key", row.logKey()).bind("type", row.contentType())
                .bind("ttl", nullable(row.ttlSeconds(), Long.class))
                .bind("expires", nullable(utc(row.expiresAt()), OffsetDateTime.class))
                .bind("base", row.baseSeq()).bind("head", row.head())
                .bind("forkedFrom", nullable(row.forkedFrom(), String.class))
                .bind("forkKey", nullable(row.forkSourceKey(), String.class))
                .bind("forkSeq", nullable(row.forkSeq(), Long.class))
                .bind("subOffset", nullable(row.forkSubOffset(), Long.class))
                .fetch().rowsUpdated()
                .then(db.sql("INSERT INTO partitions (tenant_id, topic, partition, head, first_seq) VALUES (:tenant, :key, 0, :head, :first)")
                        .bind("tenant", tenant).bind("key", row.logKey()).bind("head", row.head()).bind("first", row.baseSeq() + 1)
                        .fetch().rowsUpdated())
                .then();
    }

    /** Copies a fork's shared history — the source's rows after {@code after} up to {@code upTo} — into the fork's log. */
    Mono<Long> copy(String tenant, String fromKey, String toKey, long after, long upTo) {
        return db.sql("""
                        INSERT INTO events (tenant_id, topic, partition, seq, id, accepted_at, expires_at, envelope)
                        SELECT tenant_id, :to, 0, seq, id, accepted_at, NULL, envelope FROM events
                        WHERE tenant_id = :tenant AND topic = :from AND partition = 0 AND seq > :after AND seq <= :upTo""")
                .bind("tenant", tenant).bind("from", fromKey).bind("to", toKey).bind("after", after).bind("upTo", upTo)
                .fetch().rowsUpdated();
    }

    /**
     * Appends {@code messages} after {@code head} (the locked row's) as one append unit, and moves the
     * head. Returns the new head.
     */
    Mono<Long> append(String tenant, String logKey, long head, List<String> messages) {
        if (messages.isEmpty()) {
            return Mono.just(head);
        }
        long newHead = head + messages.size();
        return db.sql("""
                        INSERT INTO events (tenant_id, topic, partition, seq, id, accepted_at, expires_at, envelope)
                        SELECT :tenant, :key, 0, :head + m.n, :unit, now(), NULL, m.body
                        FROM unnest(CAST(:bodies AS text[])) WITH ORDINALITY AS m(body, n)""")
                .bind("tenant", tenant).bind("key", logKey).bind("head", head).bind("unit", Long.toString(head + 1))
                .bind("bodies", messages.toArray(String[]::new))
                .fetch().rowsUpdated()
                .then(db.sql("""
                                WITH s AS (UPDATE streams SET head = :newHead WHERE tenant_id = :tenant AND log_key = :key RETURNING 1)
                                UPDATE partitions SET head = :newHead WHERE tenant_id = :tenant AND topic = :key AND partition = 0""")
                        .bind("tenant", tenant).bind("key", logKey).bind("newHead", newHead)
                        .fetch().rowsUpdated())
                .thenReturn(newHead);
    }

    /**
     * Wakes the stream's live readers on every instance once the transaction commits (PostgreSQL
     * sends a NOTIFY only then): after an append, and after a close, which moves no head.
     */
    Mono<Void> notifyHead(String tenant, String logKey, long head) {
        return db.sql("SELECT pg_notify(:channel, :payload)")
                .bind("channel", HeadNotifier.CHANNEL).bind("payload", tenant + " " + logKey + " 0 " + head)
                .fetch().rowsUpdated().then();
    }

    /** A stored message: its seq, the seq its append unit began at, and its row's text. */
    record Message(long seq, long unit, String body) {
    }

    private static Message message(Readable r) {
        long seq = r.get("seq", Long.class);
        String id = r.get("id", String.class);
        // A stream's rows carry the seq that began their append; a topic's events (read as a view) their own ids.
        long unit = isSeq(id) ? Long.parseLong(id) : seq;
        return new Message(seq, unit, r.get("envelope", String.class));
    }

    private static boolean isSeq(String id) {
        if (id.isEmpty() || id.length() > 18) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            if (id.charAt(i) < '0' || id.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    /**
     * Messages after {@code after}, in order: at most {@code limit} rows and, past the first, about
     * {@code maxChars} of row text, so one read's answer stays bounded however large the messages.
     */
    Mono<List<Message>> read(String tenant, String logKey, long after, int limit, long maxChars) {
        return Flux.defer(() -> {
            AtomicLong chars = new AtomicLong();
            return db.sql("""
                            SELECT seq, id, envelope FROM events WHERE tenant_id = :tenant AND topic = :key AND partition = 0 AND seq > :after
                            ORDER BY seq LIMIT :limit""")
                    .bind("tenant", tenant).bind("key", logKey).bind("after", after).bind("limit", limit)
                    .map(StreamStore::message)
                    .all()
                    // Rows come as PostgreSQL sends them: once enough is read, the rest is cancelled.
                    .takeUntil(m -> chars.addAndGet(m.body().length()) >= maxChars);
        }).collectList();
    }

    /** The rows after {@code after} up to {@code upTo} (a fork's sub-offset prefix: a few rows of one append unit). */
    Mono<List<Message>> rows(String tenant, String logKey, long after, long upTo) {
        return db.sql("""
                        SELECT seq, id, envelope FROM events WHERE tenant_id = :tenant AND topic = :key AND partition = 0
                        AND seq > :after AND seq <= :upTo ORDER BY seq""")
                .bind("tenant", tenant).bind("key", logKey).bind("after", after).bind("upTo", upTo)
                .map(StreamStore::message)
                .all()
                .collectList();
    }

    /**
     * Records a change of the locked stream: its writer's {@code Stream-Seq}, whether it is closed,
     * and — a stream with a TTL being kept while it is used — its expiry renewed from {@code now}.
     */
    Mono<Void> update(String tenant, String path, String writerSeq, boolean closed, Instant now) {
        return db.sql("""
                        UPDATE streams SET writer_seq = :seq, closed = :closed,
                               expires_at = CASE WHEN ttl_seconds IS NULL THEN expires_at ELSE :now + ttl_seconds * interval '1 second' END
                        WHERE tenant_id = :tenant AND path = :path""")
                .bind("tenant", tenant).bind("path", path).bind("seq", nullable(writerSeq, String.class)).bind("closed", closed)
                .bind("now", utc(now))
                .fetch().rowsUpdated().then();
    }

    /**
     * Renews a read stream's TTL from {@code now}; skipped while the expiry is still within a tenth
     * of the TTL of a full renewal, so a stream read in a tight loop is not rewritten on every read.
     */
    Mono<Void> touch(String tenant, StreamRow row, Instant now) {
        if (row.ttlSeconds() == null || row.expiresAt() == null
                || !row.expiresAt().isBefore(now.plusMillis(row.ttlSeconds() * 900))) {
            return Mono.empty();
        }
        return db.sql("""
                        UPDATE streams SET expires_at = :now + ttl_seconds * interval '1 second'
                        WHERE tenant_id = :tenant AND path = :path AND log_key = :key AND deleted_at IS NULL AND expires_at > :now""")
                .bind("tenant", tenant).bind("path", row.path()).bind("key", row.logKey()).bind("now", utc(now))
                .fetch().rowsUpdated().then();
    }

    /**
     * Makes a stream a tombstone (or, {@code soft}, soft-deleted) that remembers its last seq as its
     * base, for the next stream at its path to start after. Its rows are removed by the retention
     * sweep, in bounded batches.
     */
    Mono<Void> delete(String tenant, String path, long head, boolean soft) {
        return db.sql("UPDATE streams SET deleted_at = now(), soft_deleted = :soft, base_seq = :head, head = :head WHERE tenant_id = :tenant AND path = :path")
                .bind("tenant", tenant).bind("path", path).bind("soft", soft).bind("head", head).fetch().rowsUpdated().then();
    }

    /** The partition row of a gone stream's log key, once its rows are all removed (for the retention sweep). */
    public Mono<Void> dropPartitionIfEmpty(String tenant, String logKey) {
        return db.sql("""
                        DELETE FROM partitions WHERE tenant_id = :tenant AND topic = :key AND partition = 0
                        AND NOT EXISTS (SELECT 1 FROM events WHERE tenant_id = :tenant AND topic = :key AND partition = 0)""")
                .bind("tenant", tenant).bind("key", logKey).fetch().rowsUpdated().then();
    }

    /** A soft-deleted stream whose forks are all gone becomes a plain tombstone. */
    Mono<Void> release(String tenant, String logKey) {
        return db.sql("UPDATE streams SET soft_deleted = false WHERE tenant_id = :tenant AND log_key = :key AND soft_deleted")
                .bind("tenant", tenant).bind("key", logKey).fetch().rowsUpdated().then();
    }

    /**
     * Whether a live fork still descends from the stream incarnation {@code logKey}: a live, unexpired
     * fork of it, or a soft-deleted fork that is itself so referenced (a chain, followed
     * {@value #MAX_FORK_DEPTH} deep).
     */
    Mono<Boolean> referenced(String tenant, String logKey, Instant now) {
        return referenced(tenant, logKey, now, 0);
    }

    private Mono<Boolean> referenced(String tenant, String logKey, Instant now, int depth) {
        if (depth >= MAX_FORK_DEPTH) {
            return Mono.just(true);
        }
        return db.sql("""
                        SELECT log_key, deleted_at IS NULL AND (expires_at IS NULL OR expires_at > :now) AS alive, soft_deleted
                        FROM streams WHERE tenant_id = :tenant AND fork_source_key = :key
                        AND (deleted_at IS NULL OR soft_deleted) LIMIT 100""")
                .bind("tenant", tenant).bind("key", logKey).bind("now", utc(now))
                .map((Readable r) -> new Fork(r.get("log_key", String.class), Boolean.TRUE.equals(r.get("alive", Boolean.class)),
                        Boolean.TRUE.equals(r.get("soft_deleted", Boolean.class))))
                .all()
                .concatMap(f -> f.alive() ? Mono.just(true) : f.soft() ? referenced(tenant, f.logKey(), now, depth + 1) : Mono.just(false))
                .any(Boolean::booleanValue);
    }

    private record Fork(String logKey, boolean alive, boolean soft) {
    }

    /** Counts one more live stream of the tenant; false (nothing counted) when it has {@code max} already. */
    Mono<Boolean> countCreated(String tenant, long max) {
        return db.sql("""
                        INSERT INTO stream_counts (tenant_id, live) VALUES (:tenant, 1)
                        ON CONFLICT (tenant_id) DO UPDATE SET live = stream_counts.live + 1 WHERE stream_counts.live < :max
                        RETURNING live""")
                .bind("tenant", tenant).bind("max", max)
                .map(r -> 1).all().hasElements();
    }

    Mono<Void> countDeleted(String tenant) {
        return db.sql("UPDATE stream_counts SET live = greatest(live - 1, 0) WHERE tenant_id = :tenant")
                .bind("tenant", tenant).fetch().rowsUpdated().then();
    }

    /**
     * Retires an expired stream (for the retention sweep): a tombstone, no longer counted. False when
     * it is not expired any more (a read renewed it) or was retired already.
     */
    public Mono<Boolean> retireExpired(String tenant, String logKey) {
        return db.sql("""
                        UPDATE streams SET deleted_at = now(), base_seq = head
                        WHERE tenant_id = :tenant AND log_key = :key AND deleted_at IS NULL AND expires_at <= now() RETURNING 1""")
                .bind("tenant", tenant).bind("key", logKey)
                .map(r -> 1).all().hasElements()
                .flatMap(retired -> retired ? countDeleted(tenant).thenReturn(true) : Mono.just(false));
    }

    /** What one transaction of appends to a stream writes: its messages, and the stream's and producers' state after them. */
    record BatchWrite(String path, String logKey, long head, long newHead, List<String> bodies, List<String> units, String writerSeq,
                      boolean closed, Map<String, Producer> producers, Instant now) {
    }

    /**
     * Writes a batch in one statement: the messages (each with its append unit), the partition's and
     * the stream's new head, writer seq, closed and renewed expiry, the producers' new state, and the
     * NOTIFY of the head (sent by PostgreSQL on commit).
     */
    Mono<Void> write(String tenant, BatchWrite w) {
        List<String> ids = List.copyOf(w.producers().keySet());
        return db.sql("""
                        WITH ins AS (
                          INSERT INTO events (tenant_id, topic, partition, seq, id, accepted_at, expires_at, envelope)
                          SELECT :tenant, :key, 0, :head + m.n, m.unit, now(), NULL, m.body
                          FROM unnest(CAST(:bodies AS text[]), CAST(:units AS text[])) WITH ORDINALITY AS m(body, unit, n)
                          RETURNING 1),
                        p AS (UPDATE partitions SET head = :newHead WHERE tenant_id = :tenant AND topic = :key AND partition = 0 RETURNING 1),
                        s AS (UPDATE streams SET head = :newHead, writer_seq = :seq, closed = :closed,
                                     expires_at = CASE WHEN ttl_seconds IS NULL THEN expires_at ELSE :now + ttl_seconds * interval '1 second' END
                              WHERE tenant_id = :tenant AND path = :path RETURNING 1),
                        pr AS (
                          INSERT INTO stream_producers (tenant_id, log_key, producer_id, epoch, last_seq)
                          SELECT :tenant, :key, x.id, x.epoch, x.seq
                          FROM unnest(CAST(:pids AS text[]), CAST(:epochs AS bigint[]), CAST(:pseqs AS bigint[])) AS x(id, epoch, seq)
                          ON CONFLICT (tenant_id, log_key, producer_id) DO UPDATE SET epoch = excluded.epoch, last_seq = excluded.last_seq
                          RETURNING 1)
                        SELECT pg_notify(:channel, :payload)""")
                .bind("tenant", tenant).bind("key", w.logKey()).bind("path", w.path())
                .bind("head", w.head()).bind("newHead", w.newHead())
                .bind("bodies", w.bodies().toArray(String[]::new)).bind("units", w.units().toArray(String[]::new))
                .bind("seq", nullable(w.writerSeq(), String.class)).bind("closed", w.closed()).bind("now", utc(w.now()))
                .bind("pids", ids.toArray(String[]::new))
                .bind("epochs", ids.stream().map(id -> w.producers().get(id).epoch()).toArray(Long[]::new))
                .bind("pseqs", ids.stream().map(id -> w.producers().get(id).lastSeq()).toArray(Long[]::new))
                .bind("channel", HeadNotifier.CHANNEL).bind("payload", tenant + " " + w.logKey() + " 0 " + w.newHead())
                .fetch().rowsUpdated().then();
    }

    /** The state of the named producers on a stream incarnation (those that have appended). */
    Mono<Map<String, Producer>> producers(String tenant, String logKey, List<String> ids) {
        if (ids.isEmpty()) {
            return Mono.just(Map.of());
        }
        return db.sql("""
                        SELECT producer_id, epoch, last_seq FROM stream_producers
                        WHERE tenant_id = :tenant AND log_key = :key AND producer_id = ANY(CAST(:ids AS text[]))""")
                .bind("tenant", tenant).bind("key", logKey).bind("ids", ids.toArray(String[]::new))
                .map((Readable r) -> Map.entry(r.get("producer_id", String.class), new Producer(r.get("epoch", Long.class), r.get("last_seq", Long.class))))
                .all()
                .collectMap(Map.Entry::getKey, Map.Entry::getValue);
    }

    /** A producer's state on a stream incarnation: its epoch and the last seq it appended. */
    record Producer(long epoch, long lastSeq) {
    }

    /**
     * Whether a log key's rows may all go (for the retention sweep): it is no live stream's — the
     * stream was deleted, expired or made anew. Forks hold copies of what they share, so nothing
     * else reads them.
     */
    public Mono<Boolean> isGone(String tenant, String logKey) {
        return db.sql("""
                        SELECT 1 FROM streams WHERE tenant_id = :tenant AND log_key = :key AND deleted_at IS NULL
                        AND (expires_at IS NULL OR expires_at > now())""")
                .bind("tenant", tenant).bind("key", logKey)
                .map(r -> 1).all().hasElements().map(live -> !live);
    }

    private static OffsetDateTime utc(Instant instant) {
        return instant == null ? null : instant.atOffset(ZoneOffset.UTC);
    }

    private static <T> Object nullable(T value, Class<T> type) {
        return value == null ? Parameter.empty(type) : value;
    }
}
