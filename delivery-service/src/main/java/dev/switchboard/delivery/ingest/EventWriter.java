package dev.switchboard.delivery.ingest;

import dev.switchboard.delivery.ingest.PendingEvent.DedupKey;
import dev.switchboard.delivery.ingest.PendingEvent.PartitionKey;
import dev.switchboard.delivery.stream.HeadNotifier;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
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

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Commits a group of accepted events in ONE transaction: deduplicates them, assigns each topic
 * partition's next gap-free seqs, records their dedup keys, inserts them, and announces the new
 * heads with NOTIFY (delivered by PostgreSQL only on commit).
 *
 * <p>Why this is safe under concurrency, across any number of instances:
 * <ul>
 * <li>Seqs come from {@code UPDATE partitions SET head = head + n}: the row lock is held to commit,
 * so commits of one partition are serialised and the committed rows are always 1..head, no gap.</li>
 * <li>When this instance knows a partition's head ({@link SeqLanes}), a group predicts its seqs,
 * writes its dedup keys and events first — in parallel with the groups ahead of it — and locks the
 * partition row last, only to check the prediction, NOTIFY and commit. A wrong prediction (a head
 * other than expected under the lock, or a seq some other transaction already wrote) rolls the group
 * back and runs it again lock-first. So the row lock is held for two round trips and the commit, not
 * for the writes, and the log is gap-free whichever way a group went.</li>
 * <li>A small group that goes lock-first (a lone publish, mostly) is one statement in its own
 * transaction: its CTEs lock the rows, take the seqs from the new heads and write, so the same rules
 * hold in one round trip.</li>
 * <li>A group is first tried optimistically: no look-up, its dedup keys go in by COPY. Any key
 * already there — a duplicate committed earlier, one committed by a racing transaction (PostgreSQL
 * waits for the racer to finish first), or a key whose window has passed but which is not yet
 * pruned — fails the COPY with a unique violation; we roll back, giving back the seqs, and run the
 * group again with a look-up of committed duplicates and an upsert of the keys that takes expired
 * ones over. So a duplicate is stored once and answered with the original seq.</li>
 * <li>Partition rows and dedup keys are locked in one global order (sorted), and groups of this
 * instance wait only for groups issued before them, so two groups never deadlock; across instances
 * {@code lock_timeout} ends what could still wait in a circle, and the group runs again.</li>
 * </ul>
 *
 * <p>Everything that can be done before the partition rows are locked is: envelopes are rendered
 * when accepted ({@link EnvelopeTemplate}), and with a prediction the rows are written too.
 */
@Component
public class EventWriter {

    private static final int MAX_RETRIES = 8;
    /**
     * How long a group that has written its rows waits for the groups ahead of it to lock the
     * partition. Far above what one commit takes here; reached only when groups of several instances
     * write the same seqs and wait for each other.
     */
    private static final Duration TURN_TIMEOUT = Duration.ofSeconds(1);
    /**
     * A lock-first group up to this size is written by one statement in its own transaction: lock,
     * dedup keys, events and NOTIFY in one round trip instead of five (BEGIN, lock, two COPYs,
     * COMMIT). That is the lone publish of a quiet topic, whose latency is all round trips and the
     * commit. Bigger groups go by COPY, which the driver encodes far more cheaply than arrays.
     */
    private static final int ONE_STATEMENT_MAX_EVENTS = 16;

    /**
     * Locks the partition rows (sorted: every transaction locks them in the same order) and adds the
     * counts to their heads, inserting a partition's row on its first event.
     */
    private static final String LOCKED = """
            locked AS (
              INSERT INTO partitions (tenant_id, topic, partition, head)
              SELECT * FROM unnest(:tenants::text[], :topics::text[], :partitions::int[], :counts::bigint[])
              ORDER BY 1, 2, 3
              ON CONFLICT (tenant_id, topic, partition) DO UPDATE SET head = partitions.head + EXCLUDED.head
              RETURNING tenant_id, topic, partition, head)""";

    /** The new heads, each NOTIFYed (sent by PostgreSQL only on commit). */
    private static final String NOTIFY_HEADS = "SELECT tenant_id, topic, partition, head, pg_notify(:channel, "
            + HeadNotifier.PAYLOAD_SQL + ") AS notified FROM locked";

    /** How the next attempt of a group runs, after what the previous one ran into. */
    private enum Mode {
        /** Seqs predicted when this instance knows the heads, else lock first; dedup keys by COPY. */
        FAST,
        /** Lock first, dedup keys by COPY (a prediction failed). */
        LOCK_FIRST,
        /** Look committed duplicates up, lock, upsert the dedup keys (a key was already there). */
        LOOK_UP
    }

    private final DatabaseClient db;
    private final TransactionalOperator tx;
    private final MeterRegistry meters;
    private final SeqLanes lanes = new SeqLanes();

    EventWriter(DatabaseClient db, TransactionalOperator tx, MeterRegistry meters) {
        this.db = db;
        this.tx = tx;
        this.meters = meters;
    }

    /** Results in the order of {@code events}. */
    Mono<List<PublishResult>> commit(List<PendingEvent> events) {
        AtomicReference<Mode> mode = new AtomicReference<>(Mode.FAST);
        return Mono.defer(() -> attempt(events, mode.get()))
                .retryWhen(Retry.max(MAX_RETRIES).filter(e -> {
                    if (e instanceof DedupRace) {
                        mode.set(Mode.LOOK_UP);
                        return true;
                    }
                    if (e instanceof SeqMismatch || e instanceof TurnTimeout || isLockConflict(e)) {
                        mode.compareAndSet(Mode.FAST, Mode.LOCK_FIRST);
                        return true;
                    }
                    return false;
                }));
    }

    /** One transaction for the group, with its place in the partitions' lanes. */
    private Mono<List<PublishResult>> attempt(List<PendingEvent> events, Mode mode) {
        // First occurrence of an id within the group wins; later ones are its duplicates.
        Map<DedupKey, Integer> firstIndex = new HashMap<>();
        List<Integer> candidates = new ArrayList<>();
        for (int i = 0; i < events.size(); i++) {
            PendingEvent e = events.get(i);
            if (firstIndex.putIfAbsent(e.dedupKey(), i) == null) {
                candidates.add(i);
            }
        }
        List<Integer> keyed = dedupRows(events, candidates);
        List<DedupKey> keys = new ArrayList<>(keyed.size());
        for (int i : keyed) {
            keys.add(events.get(i).dedupKey());
        }
        SeqLanes.Ticket ticket = lanes.issue(counts(events, candidates), keys, mode == Mode.FAST);
        Mono<List<PublishResult>> work;
        boolean oneStatement = mode != Mode.LOOK_UP && !ticket.predicted() && candidates.size() <= ONE_STATEMENT_MAX_EVENTS;
        String way = mode == Mode.LOOK_UP ? "look-up" : ticket.predicted() ? "predicted" : oneStatement ? "one-statement" : "lock-first";
        if (mode == Mode.LOOK_UP) {
            work = findCommittedDuplicates(events, candidates).flatMap(committed -> {
                List<Integer> fresh = candidates.stream()
                        .filter(i -> !committed.containsKey(events.get(i).dedupKey()))
                        .toList();
                return lockFirst(ticket, events, fresh, false)
                        .map(seqs -> results(events, firstIndex, committed, seqs));
            });
        } else if (ticket.predicted()) {
            long[] seqs = predictedSeqs(ticket, events, candidates);
            work = copyDedup(events, keyed, seqs)
                    .then(copyEvents(events, candidates, seqs).onErrorMap(EventWriter::isUniqueViolation, e -> new SeqMismatch()))
                    // Holding rows while waiting for our turn could close a circle with another
                    // instance's transactions that PostgreSQL cannot see; a bounded wait breaks it.
                    .then(ticket.turn().timeout(TURN_TIMEOUT, Mono.error(TurnTimeout::new)))
                    .then(lockHeads(events, candidates))
                    .flatMap(heads -> ticket.locked(heads)
                            ? Mono.just(results(events, firstIndex, Map.of(), seqs))
                            : Mono.error(new SeqMismatch()));
        } else if (oneStatement) {
            work = lockAndWrite(ticket, events, candidates)
                    .map(seqs -> results(events, firstIndex, Map.of(), seqs));
        } else {
            work = lockFirst(ticket, events, candidates, true)
                    .map(seqs -> results(events, firstIndex, Map.of(), seqs));
        }
        // One statement is its own transaction (autocommit): no BEGIN and COMMIT round trips.
        Mono<List<PublishResult>> transaction = oneStatement ? work : tx.transactional(work);
        // Dedup keys an earlier group of this instance still holds: wait for it, so it never waits for us.
        return ticket.keysFree()
                .then(transaction)
                .doOnSuccess(r -> {
                    ticket.finish(true, false);
                    count(way, "committed");
                })
                .doOnError(e -> {
                    boolean conflict = e instanceof SeqMismatch || isLockConflict(e);
                    ticket.finish(false, conflict);
                    count(way, conflict || e instanceof DedupRace || e instanceof TurnTimeout ? "retried" : "failed");
                })
                .doOnCancel(() -> ticket.finish(false, false));
    }

    private void count(String way, String outcome) {
        Counter.builder("switchboard.delivery.commit.attempts")
                .description("Group-commit transactions by how their seqs were assigned (predicted: written before the partition lock) and how they ended")
                .tags("way", way, "outcome", outcome)
                .register(meters)
                .increment();
    }

    /** Lock, take the seqs the lock hands out, then write: the way without a prediction. */
    private Mono<long[]> lockFirst(SeqLanes.Ticket ticket, List<PendingEvent> events, List<Integer> fresh, boolean copy) {
        return ticket.turn()
                .then(lockHeads(events, fresh))
                .flatMap(heads -> {
                    ticket.locked(heads);
                    long[] seqs = seqsBelow(heads, events, fresh);
                    List<Integer> keyed = dedupRows(events, fresh);
                    return (copy ? copyDedup(events, keyed, seqs) : upsertDedup(events, keyed, seqs))
                            .then(copyEvents(events, fresh, seqs))
                            .thenReturn(seqs);
                });
    }

    /**
     * Lock-first in ONE statement, run as its own transaction: lock the partition rows and add to
     * their heads, write the dedup keys and the events with seqs from the new heads, NOTIFY. Data-
     * modifying CTEs see the same snapshot, so the rows to write are joined to what {@code locked}
     * returned: nothing is written before the partition rows are locked, and the seqs are the ones
     * {@link #seqsBelow} hands out (each partition's events, in index order, end at its new head).
     * Dedup keys go in sorted by key, the order of every other transaction ({@link #dedupRows}). Any
     * existing key fails the statement with a unique violation, and nothing stays of it.
     */
    private Mono<long[]> lockAndWrite(SeqLanes.Ticket ticket, List<PendingEvent> events, List<Integer> fresh) {
        TreeMap<PartitionKey, Integer> counts = counts(events, fresh);
        int n = fresh.size();
        String[] eventTenants = new String[n];
        String[] eventTopics = new String[n];
        Integer[] eventPartitions = new Integer[n];
        Long[] belowHead = new Long[n];
        String[] ids = new String[n];
        String[] accepted = new String[n];
        String[] expires = new String[n];
        String[] dedupUntil = new String[n];
        String[] heads = new String[n];
        String[] tails = new String[n];
        Map<PartitionKey, Integer> rank = new HashMap<>();
        for (int j = 0; j < n; j++) {
            PendingEvent e = events.get(fresh.get(j));
            PartitionKey key = e.partitionKey();
            int r = rank.merge(key, 1, Integer::sum);
            eventTenants[j] = e.tenant();
            eventTopics[j] = e.topic();
            eventPartitions[j] = e.partition();
            // seq = new head - (events of the partition - rank): the last event of a partition gets the head.
            belowHead[j] = (long) (counts.get(key) - r);
            ids[j] = e.id();
            accepted[j] = e.acceptedAt().toString();
            expires[j] = e.expiresAt() == null ? null : e.expiresAt().toString();
            dedupUntil[j] = e.dedupWindow().isZero() ? null : e.acceptedAt().plus(e.dedupWindow()).toString();
            // The template splits the UTF-8 JSON right after "seq": — an ASCII boundary, so each half decodes whole.
            heads[j] = new String(e.envelope().head(), StandardCharsets.UTF_8);
            tails[j] = new String(e.envelope().tail(), StandardCharsets.UTF_8);
        }
        return ticket.turn()
                .then(newHeads(locking("WITH " + LOCKED + ",\n" + """
                                fresh AS (
                                  SELECT r.tenant_id, r.topic, r.partition, l.head - r.below_head AS seq, r.id,
                                         r.accepted_at, r.expires_at, r.dedup_until, r.envelope_head, r.envelope_tail
                                  FROM unnest(:eventTenants::text[], :eventTopics::text[], :eventPartitions::int[],
                                              :belowHead::bigint[], :ids::text[], :accepted::timestamptz[], :expires::timestamptz[],
                                              :dedupUntil::timestamptz[], :heads::text[], :tails::text[])
                                       AS r(tenant_id, topic, partition, below_head, id, accepted_at, expires_at, dedup_until,
                                             envelope_head, envelope_tail)
                                  JOIN locked l ON l.tenant_id = r.tenant_id COLLATE "C" AND l.topic = r.topic COLLATE "C"
                                               AND l.partition = r.partition),
                                keyed AS (
                                  INSERT INTO dedup (tenant_id, topic, id, partition, seq, expires_at)
                                  SELECT tenant_id, topic, id, partition, seq, dedup_until FROM fresh
                                  WHERE dedup_until IS NOT NULL
                                  ORDER BY tenant_id COLLATE "C", topic COLLATE "C", id COLLATE "C"),
                                written AS (
                                  INSERT INTO events (tenant_id, topic, partition, seq, id, accepted_at, expires_at, envelope)
                                  SELECT tenant_id, topic, partition, seq, id, accepted_at, expires_at, envelope_head || seq || envelope_tail
                                  FROM fresh)
                                """ + NOTIFY_HEADS, counts)
                        .bind("eventTenants", eventTenants)
                        .bind("eventTopics", eventTopics)
                        .bind("eventPartitions", eventPartitions)
                        .bind("belowHead", belowHead)
                        .bind("ids", ids)
                        .bind("accepted", accepted)
                        .bind("expires", expires)
                        .bind("dedupUntil", dedupUntil)
                        .bind("heads", heads)
                        .bind("tails", tails))
                        .onErrorMap(EventWriter::isUniqueViolation, e -> new DedupRace()))
                .map(newHeads -> {
                    ticket.locked(newHeads);
                    return seqsBelow(newHeads, events, fresh);
                });
    }

    /** Events per partition among {@code indexes}, in the partitions' lock order. */
    private static TreeMap<PartitionKey, Integer> counts(List<PendingEvent> events, List<Integer> indexes) {
        TreeMap<PartitionKey, Integer> counts = new TreeMap<>();
        for (int i : indexes) {
            counts.merge(events.get(i).partitionKey(), 1, Integer::sum);
        }
        return counts;
    }

    /** Seqs by event index (0: none) from the ticket's predicted first seq per partition, in index order. */
    private static long[] predictedSeqs(SeqLanes.Ticket ticket, List<PendingEvent> events, List<Integer> fresh) {
        long[] seqs = new long[events.size()];
        Map<PartitionKey, Long> next = new HashMap<>();
        for (int i : fresh) {
            PartitionKey p = events.get(i).partitionKey();
            long seq = next.computeIfAbsent(p, ticket::firstSeq);
            seqs[i] = seq;
            next.put(p, seq + 1);
        }
        return seqs;
    }

    /** Seqs by event index (0: none): each partition's fresh events, in index order, end at its new head. */
    private static long[] seqsBelow(Map<PartitionKey, Long> heads, List<PendingEvent> events, List<Integer> fresh) {
        long[] seqs = new long[events.size()];
        Map<PartitionKey, Long> next = new HashMap<>();
        for (Map.Entry<PartitionKey, Integer> entry : counts(events, fresh).entrySet()) {
            next.put(entry.getKey(), heads.get(entry.getKey()) - entry.getValue() + 1);
        }
        for (int i : fresh) {
            PartitionKey p = events.get(i).partitionKey();
            long seq = next.get(p);
            seqs[i] = seq;
            next.put(p, seq + 1);
        }
        return seqs;
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

    /**
     * Locks the partition rows of the fresh events (in one order for every transaction), adds their
     * counts to the heads and NOTIFYs the new heads (sent by PostgreSQL only on commit): the new head
     * of each partition. One statement, so the lock is held for one round trip less.
     */
    private Mono<Map<PartitionKey, Long>> lockHeads(List<PendingEvent> events, List<Integer> fresh) {
        if (fresh.isEmpty()) {
            return Mono.just(Map.of());
        }
        return newHeads(locking("WITH " + LOCKED + "\n" + NOTIFY_HEADS, counts(events, fresh)));
    }

    /** A statement with {@link #LOCKED}, its partitions and counts bound. */
    private DatabaseClient.GenericExecuteSpec locking(String sql, TreeMap<PartitionKey, Integer> counts) {
        int n = counts.size();
        String[] tenants = new String[n];
        String[] topics = new String[n];
        Integer[] partitions = new Integer[n];
        Long[] added = new Long[n];
        int k = 0;
        for (Map.Entry<PartitionKey, Integer> entry : counts.entrySet()) {
            tenants[k] = entry.getKey().tenant();
            topics[k] = entry.getKey().topic();
            partitions[k] = entry.getKey().partition();
            added[k] = (long) entry.getValue();
            k++;
        }
        return db.sql(sql)
                .bind("tenants", tenants)
                .bind("topics", topics)
                .bind("partitions", partitions)
                .bind("counts", added)
                .bind("channel", HeadNotifier.CHANNEL);
    }

    /** The rows of {@link #NOTIFY_HEADS}: each locked partition's new head. */
    private static Mono<Map<PartitionKey, Long>> newHeads(DatabaseClient.GenericExecuteSpec statement) {
        return statement
                .map((Readable row) -> Map.entry(
                        new PartitionKey(row.get("tenant_id", String.class), row.get("topic", String.class), row.get("partition", Integer.class)),
                        row.get("head", Long.class)))
                .all()
                .collectMap(Map.Entry::getKey, Map.Entry::getValue);
    }

    /** The fresh events, by COPY in binary format: no text formatting in the driver, no parsing in PostgreSQL. */
    private Mono<Void> copyEvents(List<PendingEvent> events, List<Integer> fresh, long[] seqs) {
        if (fresh.isEmpty()) {
            return Mono.empty();
        }
        return copyIn("""
                COPY events (tenant_id, topic, partition, seq, id, accepted_at, expires_at, envelope) FROM STDIN (FORMAT binary)""", () -> {
            BinaryCopy copy = new BinaryCopy(fresh.size() * (events.get(fresh.get(0)).envelope().length(0) + 160));
            for (int i : fresh) {
                PendingEvent e = events.get(i);
                long seq = seqs[i];
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
    private Mono<Void> copyDedup(List<PendingEvent> events, List<Integer> deduped, long[] seqs) {
        if (deduped.isEmpty()) {
            return Mono.empty();
        }
        return copyIn("""
                COPY dedup (tenant_id, topic, id, partition, seq, expires_at) FROM STDIN (FORMAT binary)""", () -> {
            BinaryCopy copy = new BinaryCopy(deduped.size() * 100);
            for (int i : deduped) {
                PendingEvent e = events.get(i);
                copy.row(6).text(e.tenant()).text(e.topic()).text(e.id()).int4(e.partition()).int8(seqs[i])
                        .timestamptz(e.acceptedAt().plus(e.dedupWindow()));
            }
            return copy.finish();
        }).onErrorMap(EventWriter::isUniqueViolation, e -> new DedupRace());
    }

    private Mono<Void> upsertDedup(List<PendingEvent> events, List<Integer> deduped, long[] seqs) {
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
            seqArray[k] = seqs[i];
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

    private List<PublishResult> results(List<PendingEvent> events, Map<DedupKey, Integer> firstIndex,
                                        Map<DedupKey, long[]> committed, long[] seqs) {
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
            results.add(new PublishResult(e.id(), seqs[first], firstEvent.partition(), first != i));
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

    /**
     * PostgreSQL ended a wait for a lock: {@code lock_not_available} (lock_timeout) or
     * {@code deadlock_detected} — a prediction that raced another instance's writes to the same
     * seqs. Nothing of the transaction stays; it runs again lock-first.
     */
    private static boolean isLockConflict(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof R2dbcException r && ("55P03".equals(r.getSqlState()) || "40P01".equals(r.getSqlState()))) {
                return true;
            }
        }
        return false;
    }

    /** A predicted seq was wrong: the partition's head moved otherwise than this instance expected. */
    static final class SeqMismatch extends RuntimeException {
        SeqMismatch() {
            super("seq prediction failed", null, false, false);
        }
    }

    /** A group with predicted seqs waited too long for its turn at the partition lock (it runs again lock-first). */
    static final class TurnTimeout extends RuntimeException {
        TurnTimeout() {
            super("turn at the partition lock timed out", null, false, false);
        }
    }

    /** A duplicate committed by a racing transaction between our look-up and our insert. */
    static final class DedupRace extends RuntimeException {
        DedupRace() {
            super("racing duplicate", null, false, false);
        }
    }


}
