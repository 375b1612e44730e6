package dev.switchboard.delivery.ingest;

import dev.switchboard.delivery.ingest.PendingEvent.DedupKey;
import dev.switchboard.delivery.ingest.PendingEvent.PartitionKey;
import dev.switchboard.delivery.stream.HeadNotifier;
import io.netty.buffer.ByteBuf;
import io.r2dbc.postgresql.api.PostgresqlConnection;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.Readable;
import io.r2dbc.spi.Wrapped;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Commits a group of accepted events in ONE transaction: deduplicates them, assigns each topic
 * partition's next gap-free seqs, records their dedup keys, inserts them, and announces the new
 * heads with NOTIFY (delivered by PostgreSQL only on commit).
 *
 * <p>Why this order is safe under concurrency, across any number of instances:
 * <ul>
 * <li>Seqs come from {@code UPDATE partitions SET head = head + n}: the row lock is held to commit,
 * so commits of one partition are serialised and the committed rows are always 1..head, no gap.</li>
 * <li>A group is first tried optimistically: no look-up, its dedup keys go in by COPY. Any key
 * already there — a duplicate committed earlier, one committed by a racing transaction (PostgreSQL
 * waits for the racer to finish first), or a key whose window has passed but which is not yet
 * pruned — fails the COPY with a unique violation; we roll back, giving back the seqs, and run the
 * group again with a look-up of committed duplicates and an upsert of the keys that takes expired
 * ones over. So a duplicate is stored once and answered with the original seq.</li>
 * <li>Partition rows and dedup keys are locked in one global order (sorted), so two groups never
 * deadlock.</li>
 * </ul>
 *
 * <p>Everything that can be done before the partition rows are locked is: envelopes are rendered
 * when accepted ({@link EnvelopeTemplate}); after the lock only seqs are spliced in and rows are
 * sent by binary COPY.
 */
@Component
public class EventWriter {

    private static final int MAX_RACE_RETRIES = 5;

    private final DatabaseClient db;
    private final TransactionalOperator tx;

    EventWriter(DatabaseClient db, TransactionalOperator tx) {
        this.db = db;
        this.tx = tx;
    }

    /** Results in the order of {@code events}. */
    Mono<List<PublishResult>> commit(List<PendingEvent> events) {
        AtomicInteger attempts = new AtomicInteger();
        return Mono.defer(() -> tx.transactional(attempt(events, attempts.getAndIncrement() == 0)))
                .retryWhen(Retry.max(MAX_RACE_RETRIES).filter(DedupRace.class::isInstance));
    }

    /**
     * {@code first}: no look-up, dedup keys go in by COPY; a retry after a {@link DedupRace} looks
     * committed duplicates up and upserts the keys.
     */
    private Mono<List<PublishResult>> attempt(List<PendingEvent> events, boolean first) {
        // First occurrence of an id within the group wins; later ones are its duplicates.
        Map<DedupKey, Integer> firstIndex = new HashMap<>();
        List<Integer> candidates = new ArrayList<>();
        for (int i = 0; i < events.size(); i++) {
            PendingEvent e = events.get(i);
            if (firstIndex.putIfAbsent(e.dedupKey(), i) == null) {
                candidates.add(i);
            }
        }
        // Optimistic first attempt: no look-up. The dedup COPY fails on any key already there, and
        // the retry looks duplicates up. Most groups hold none, so they skip a statement whose cost
        // (and plan) depends on the table.
        Mono<Map<DedupKey, long[]>> lookUp = first ? Mono.just(Map.of()) : findCommittedDuplicates(events, candidates);
        return lookUp.flatMap(committed -> {
            List<Integer> fresh = candidates.stream()
                    .filter(i -> !committed.containsKey(events.get(i).dedupKey()))
                    .toList();
            return allocate(events, fresh).flatMap(seqs ->
                    (first ? copyDedup(events, fresh, seqs) : upsertDedup(events, fresh, seqs))
                            .then(copyEvents(events, fresh, seqs))
                            .then(notifyHeads(events, fresh, seqs))
                            .then(Mono.fromSupplier(() -> results(events, firstIndex, committed, seqs))));
        });
    }

    /**
     * Committed dedup rows, still inside their window, for the candidate ids: one statement per
     * tenant and topic in the group — usually one — probing the primary key once per id, so the
     * cost follows the group's size, never the table's.
     */
    private Mono<Map<DedupKey, long[]>> findCommittedDuplicates(List<PendingEvent> events, List<Integer> candidates) {
        Map<List<String>, List<String>> idsByTopic = new TreeMap<>(Comparator.comparing((List<String> k) -> k.get(0)).thenComparing(k -> k.get(1)));
        for (int i : candidates) {
            PendingEvent e = events.get(i);
            if (!e.dedupWindow().isZero()) {
                idsByTopic.computeIfAbsent(List.of(e.tenant(), e.topic()), k -> new ArrayList<>()).add(e.id());
            }
        }
        if (idsByTopic.isEmpty()) {
            return Mono.just(Map.of());
        }
        return Flux.fromIterable(idsByTopic.entrySet())
                // One index probe per id, whatever the statistics say: LIMIT keeps the LATERAL
                // subquery a parameterised index scan. (As "id = ANY(…)", stale statistics — a topic
                // that was empty when last analysed — made the planner scan the topic's whole key
                // range and filter: 95 ms per 1,000 ids at 300,000 keys, growing with the table.)
                .concatMap(entry -> db.sql("""
                                SELECT d.id, d.partition, d.seq FROM unnest(string_to_array(:ids, ' ')) AS i(id)
                                CROSS JOIN LATERAL (SELECT id, partition, seq FROM dedup
                                    WHERE tenant_id = :tenant AND topic = :topic AND id = i.id AND expires_at > now()
                                    LIMIT 1) d""")
                        .bind("tenant", entry.getKey().get(0))
                        .bind("topic", entry.getKey().get(1))
                        // Ids are printable ASCII without spaces (EventRules): one space-separated text
                        // instead of a text[] the driver would encode character by character.
                        .bind("ids", String.join(" ", entry.getValue()))
                        .map((Readable row) -> Map.entry(
                                new DedupKey(entry.getKey().get(0), entry.getKey().get(1), row.get("id", String.class)),
                                new long[]{row.get("partition", Integer.class), row.get("seq", Long.class)}))
                        .all())
                .collectMap(Map.Entry::getKey, Map.Entry::getValue);
    }

    /** Assigns seqs to the fresh events: index in {@code events} → seq. */
    private Mono<Map<Integer, Long>> allocate(List<PendingEvent> events, List<Integer> fresh) {
        if (fresh.isEmpty()) {
            return Mono.just(Map.of());
        }
        TreeMap<PartitionKey, List<Integer>> byPartition = new TreeMap<>();
        for (int i : fresh) {
            byPartition.computeIfAbsent(events.get(i).partitionKey(), k -> new ArrayList<>()).add(i);
        }
        int n = byPartition.size();
        String[] tenants = new String[n];
        String[] topics = new String[n];
        Integer[] partitions = new Integer[n];
        Long[] counts = new Long[n];
        int k = 0;
        for (Map.Entry<PartitionKey, List<Integer>> entry : byPartition.entrySet()) {
            tenants[k] = entry.getKey().tenant();
            topics[k] = entry.getKey().topic();
            partitions[k] = entry.getKey().partition();
            counts[k] = (long) entry.getValue().size();
            k++;
        }
        // ORDER BY makes every transaction lock partition rows in the same order.
        return db.sql("""
                        INSERT INTO partitions (tenant_id, topic, partition, head)
                        SELECT * FROM unnest(:tenants::text[], :topics::text[], :partitions::int[], :counts::bigint[])
                        ORDER BY 1, 2, 3
                        ON CONFLICT (tenant_id, topic, partition) DO UPDATE SET head = partitions.head + EXCLUDED.head
                        RETURNING tenant_id, topic, partition, head""")
                .bind("tenants", tenants)
                .bind("topics", topics)
                .bind("partitions", partitions)
                .bind("counts", counts)
                .map((Readable row) -> Map.entry(
                        new PartitionKey(row.get("tenant_id", String.class), row.get("topic", String.class), row.get("partition", Integer.class)),
                        row.get("head", Long.class)))
                .all()
                .collectMap(Map.Entry::getKey, Map.Entry::getValue)
                .map(heads -> {
                    Map<Integer, Long> seqs = new HashMap<>();
                    byPartition.forEach((key, indexes) -> {
                        long next = heads.get(key) - indexes.size() + 1;
                        for (int i : indexes) {
                            seqs.put(i, next++);
                        }
                    });
                    return seqs;
                });
    }

    /** The fresh events, by COPY in binary format: no text formatting in the driver, no parsing in PostgreSQL. */
    private Mono<Void> copyEvents(List<PendingEvent> events, List<Integer> fresh, Map<Integer, Long> seqs) {
        if (fresh.isEmpty()) {
            return Mono.empty();
        }
        return copyIn("""
                COPY events (tenant_id, topic, partition, seq, id, accepted_at, expires_at, envelope) FROM STDIN (FORMAT binary)""", () -> {
            BinaryCopy copy = new BinaryCopy(fresh.size() * (events.get(fresh.get(0)).envelope().length(0) + 160));
            for (int i : fresh) {
                PendingEvent e = events.get(i);
                long seq = seqs.get(i);
                copy.row(8).text(e.tenant()).text(e.topic()).int4(e.partition()).int8(seq).text(e.id())
                        .timestamptz(e.acceptedAt()).timestamptz(e.expiresAt()).envelope(e.envelope(), seq);
            }
            return copy.finish();
        });
    }

    /** Fresh events of topics with a dedup window, sorted by key: every transaction takes key locks in one order. */
    private static List<Integer> dedupRows(List<PendingEvent> events, List<Integer> fresh) {
        return fresh.stream()
                .filter(i -> !events.get(i).dedupWindow().isZero())
                .sorted((a, b) -> events.get(a).dedupKey().compareTo(events.get(b).dedupKey()))
                .toList();
    }

    /**
     * The dedup keys by COPY. Any existing row for a key fails it with a unique violation — a
     * committed or racing duplicate, or an expired row not yet pruned — and the group is run again
     * with the look-up and {@link #upsertDedup}, which tell these apart.
     */
    private Mono<Void> copyDedup(List<PendingEvent> events, List<Integer> fresh, Map<Integer, Long> seqs) {
        List<Integer> deduped = dedupRows(events, fresh);
        if (deduped.isEmpty()) {
            return Mono.empty();
        }
        return copyIn("""
                COPY dedup (tenant_id, topic, id, partition, seq, expires_at) FROM STDIN (FORMAT binary)""", () -> {
            BinaryCopy copy = new BinaryCopy(deduped.size() * 100);
            for (int i : deduped) {
                PendingEvent e = events.get(i);
                copy.row(6).text(e.tenant()).text(e.topic()).text(e.id()).int4(e.partition()).int8(seqs.get(i))
                        .timestamptz(e.acceptedAt().plus(e.dedupWindow()));
            }
            return copy.finish();
        }).onErrorMap(EventWriter::isUniqueViolation, e -> new DedupRace());
    }

    private Mono<Void> upsertDedup(List<PendingEvent> events, List<Integer> fresh, Map<Integer, Long> seqs) {
        List<Integer> deduped = dedupRows(events, fresh);
        if (deduped.isEmpty()) {
            return Mono.empty();
        }
        int n = deduped.size();
        String[] tenants = new String[n];
        String[] topics = new String[n];
        String[] ids = new String[n];
        Integer[] partitions = new Integer[n];
        Long[] seqArray = new Long[n];
        String[] expires = new String[n];
        for (int k = 0; k < n; k++) {
            int i = deduped.get(k);
            PendingEvent e = events.get(i);
            tenants[k] = e.tenant();
            topics[k] = e.topic();
            ids[k] = e.id();
            partitions[k] = e.partition();
            seqArray[k] = seqs.get(i);
            expires[k] = e.acceptedAt().plus(e.dedupWindow()).toString();
        }
        // A live row for the key means a racing duplicate committed since our look-up: roll back
        // and retry. An expired row is replaced: the window has passed, the id is new again.
        return db.sql("""
                        INSERT INTO dedup (tenant_id, topic, id, partition, seq, expires_at)
                        SELECT * FROM unnest(:tenants::text[], :topics::text[], :ids::text[], :partitions::int[],
                                             :seqs::bigint[], :expires::timestamptz[])
                        ON CONFLICT (tenant_id, topic, id) DO UPDATE
                          SET partition = EXCLUDED.partition, seq = EXCLUDED.seq, expires_at = EXCLUDED.expires_at
                          WHERE dedup.expires_at <= now()
                        RETURNING id""")
                .bind("tenants", tenants)
                .bind("topics", topics)
                .bind("ids", ids)
                .bind("partitions", partitions)
                .bind("seqs", seqArray)
                .bind("expires", expires)
                .map((Readable row) -> row.get("id", String.class))
                .all()
                .count()
                .flatMap(written -> written == n ? Mono.<Void>empty() : Mono.error(new DedupRace()));
    }

    private Mono<Void> notifyHeads(List<PendingEvent> events, List<Integer> fresh, Map<Integer, Long> seqs) {
        Map<PartitionKey, Long> heads = new LinkedHashMap<>();
        for (int i : fresh) {
            heads.merge(events.get(i).partitionKey(), seqs.get(i), Math::max);
        }
        return Flux.fromIterable(heads.entrySet())
                .concatMap(entry -> db.sql("SELECT pg_notify(:channel, :payload)")
                        .bind("channel", HeadNotifier.CHANNEL)
                        .bind("payload", HeadNotifier.payload(entry.getKey().tenant(), entry.getKey().topic(),
                                entry.getKey().partition(), entry.getValue()))
                        .then())
                .then();
    }

    private List<PublishResult> results(List<PendingEvent> events, Map<DedupKey, Integer> firstIndex,
                                        Map<DedupKey, long[]> committed, Map<Integer, Long> seqs) {
        List<PublishResult> results = new ArrayList<>(events.size());
        for (int i = 0; i < events.size(); i++) {
            PendingEvent e = events.get(i);
            long[] original = committed.get(e.dedupKey());
            if (original != null) {
                results.add(new PublishResult(e.id(), original[1], (int) original[0], true));
                continue;
            }
            int first = firstIndex.get(e.dedupKey());
            PendingEvent firstEvent = events.get(first);
            results.add(new PublishResult(e.id(), seqs.get(first), firstEvent.partition(), first != i));
        }
        return results;
    }

    /** COPY ... FROM STDIN on this transaction's connection, with the data built only when it is sent. */
    private Mono<Void> copyIn(String sql, Supplier<ByteBuf> data) {
        return db.inConnection(connection -> postgres(connection).copyIn(sql, Mono.fromSupplier(data))).then();
    }

    /** The driver's connection under the pool's and Spring's wrappers (COPY is PostgreSQL's own API). */
    private static PostgresqlConnection postgres(Connection connection) {
        Object c = connection;
        while (!(c instanceof PostgresqlConnection) && c instanceof Wrapped<?> wrapped) {
            c = wrapped.unwrap();
        }
        if (c instanceof PostgresqlConnection postgres) {
            return postgres;
        }
        throw new IllegalStateException("Not a PostgreSQL connection: " + connection.getClass().getName());
    }

    /** The driver's unique violation, also under Spring's translation (DuplicateKeyException). */
    private static boolean isUniqueViolation(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof R2dbcException r && "23505".equals(r.getSqlState())) {
                return true;
            }
        }
        return false;
    }

    /** A duplicate committed by a racing transaction between our look-up and our insert. */
    static final class DedupRace extends RuntimeException {
        DedupRace() {
            super("racing duplicate", null, false, false);
        }
    }


}
