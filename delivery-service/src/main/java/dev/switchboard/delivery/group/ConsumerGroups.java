package dev.switchboard.delivery.group;

import dev.switchboard.contracts.names.TopicNames;
import dev.switchboard.contracts.registry.ResolvedTopic;
import dev.switchboard.delivery.config.DeliveryProperties;
import dev.switchboard.delivery.stream.HeadNotifier;
import dev.switchboard.delivery.stream.Stopping;
import dev.switchboard.delivery.topic.TopicLookup;
import dev.switchboard.platform.problem.SwitchboardException;
import io.r2dbc.spi.Readable;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Consumer groups (at-least-once) over the log: leases with an ack deadline, redelivery with an
 * attempt count, delays, dead letters after the topic's {@code maxAttempts}, seek, and order per
 * {@code partitionkey} for groups that ask for it. State lives in {@code group_partitions} (the
 * cursor per partition) and {@code group_pending} (only what is leased, delayed or waiting), so a
 * poll reads a bounded slice of each and of the log after the cursor, never the whole log.
 *
 * <p>Every operation is one transaction. A group without order polls and acks on its hot path
 * ({@link LeaseStatements}): each step one statement, a cursor row locked only while the statement
 * that moves it runs, due rows taken with {@code FOR UPDATE SKIP LOCKED} — no event is leased to two
 * consumers at once, and consumers of different partitions never wait for each other. Polls of
 * ordered groups, seeks and dead-letter sweeps lock all the group's cursor rows first (in partition
 * order), so an ordered group's key check cannot race. Acks and nacks lock only their own pending
 * rows, and a poll passes over rows an ack holds rather than wait. Every statement that locks
 * several pending rows locks them in (partition, seq) order, so no two operations deadlock. Groups
 * are independent of each other.
 */
@Component
public class ConsumerGroups {

    /** Most rows a poll's redelivery step or a dead-letter sweep reads. */
    static final int MAX_BATCH = 1000;
    private static final int MAX_LISTED = 1000;
    private static final int MAX_PARTITIONS = 1024;

    private final DatabaseClient db;
    private final TransactionalOperator tx;
    private final TopicLookup topics;
    private final HeadNotifier notifier;
    private final DeliveryProperties properties;
    private final DeadLetters deadLetters;
    private final GroupMetrics metrics;
    private final LeaseStatements statements;
    private final Stopping stopping;

    ConsumerGroups(DatabaseClient db, TransactionalOperator tx, TopicLookup topics, HeadNotifier notifier,
                   DeliveryProperties properties, DeadLetters deadLetters, GroupMetrics metrics, LeaseStatements statements,
                   Stopping stopping) {
        this.db = db;
        this.tx = tx;
        this.topics = topics;
        this.notifier = notifier;
        this.properties = properties;
        this.deadLetters = deadLetters;
        this.metrics = metrics;
        this.statements = statements;
        this.stopping = stopping;
    }

    /**
     * What a poll asks for. {@code fromLatest} and {@code orderedByKey} matter only on a group's
     * first poll (which creates it); {@code orderedByKey} null means "whatever the group is".
     */
    public record PollOptions(int max, Duration ackDeadline, Duration longPoll, String consumer, Integer maxInFlight,
                              boolean fromLatest, Boolean orderedByKey) {
    }

    /** A leased event: {@code envelope} is the stored CloudEvent JSON, {@code attempt} counts deliveries from 1. */
    public record Leased(int partition, long seq, int attempt, String envelope) {
    }

    public record AckResult(List<Long> acked, List<Long> ignored) {
    }

    public record NackResult(List<Long> nacked, List<Long> ignored, int deadLettered) {
    }

    public record PartitionStatus(int partition, long committed, long head, long lag, long inFlight, long deadLettered) {
    }

    public record Status(String group, String topic, boolean orderedByKey, Instant createdAt, List<PartitionStatus> partitions) {
    }

    public record GroupInfo(String group, boolean orderedByKey, Instant createdAt) {
    }

    /** Where a seek moves a group: after a seq of one partition, or every (or one) partition to its head or its oldest event. */
    public record SeekTarget(Long after, String to, Integer partition) {
    }

    record Cursor(int partition, long nextSeq) {
    }

    // ------------------------------------------------------------------------------------ poll

    /**
     * Up to {@code max} events: due redeliveries first (expired leases, passed delays, unblocked
     * events of an ordered group), then events never leased, from the cursor on. When there are
     * none, waits up to {@code longPoll} for a NOTIFY of a new head of the topic (or a due redelivery,
     * re-checked every {@code pollInterval}), then answers what there is, possibly nothing.
     */
    public Mono<List<Leased>> poll(String tenant, String topic, String group, PollOptions options) {
        long started = System.nanoTime();
        return resolve(tenant, topic, group).flatMap(resolved -> {
            int partitions = Math.min(resolved.settings().partitions(), MAX_PARTITIONS);
            int maxAttempts = Math.max(1, resolved.settings().maxAttempts());
            return ensureGroup(tenant, topic, group, partitions, options).flatMap(ordered -> {
                Flux<Long> wakeups;
                if (options.longPoll().isZero()) {
                    wakeups = Flux.just(0L);
                } else {
                    Duration recheck = options.longPoll().compareTo(properties.pollInterval()) < 0 ? options.longPoll() : properties.pollInterval();
                    wakeups = Flux.merge(
                                    Mono.just(0L),
                                    notifier.heads().filter(h -> h.topic().equals(topic) && h.tenant().equals(tenant)).map(HeadNotifier.Head::head),
                                    Flux.interval(recheck))
                            .onBackpressureLatest()
                            // Ends the waiting, never a poll under way: a lease taken is always answered.
                            .takeUntilOther(Mono.delay(options.longPoll()))
                            // An instance that stops answers its waiting polls at once (with nothing).
                            .takeUntilOther(stopping.signal());
                }
                return wakeups
                        .concatMap(w -> ordered
                                ? sweepDeadLetters(tenant, topic, group, true, maxAttempts)
                                        .then(pollOnce(tenant, topic, group, true, partitions, maxAttempts, options))
                                : pollUnordered(tenant, topic, group, partitions, maxAttempts, options), 1)
                        .filter(events -> !events.isEmpty())
                        .next()
                        .defaultIfEmpty(List.of());
            });
        }).doOnSuccess(events -> metrics.polled(tenant, events == null ? 0 : events.size(), System.nanoTime() - started));
    }

    /** Creates the group on first use; answers whether it keeps order per key. 409 if asked for the other mode. */
    private Mono<Boolean> ensureGroup(String tenant, String topic, String group, int partitions, PollOptions options) {
        boolean ordered = Boolean.TRUE.equals(options.orderedByKey());
        Mono<Boolean> create = tx.transactional(db.sql("""
                        INSERT INTO consumer_groups (tenant_id, topic, group_name, ordered_by_key)
                        VALUES (:tenant, :topic, :group, :ordered)
                        ON CONFLICT (tenant_id, topic, group_name) DO NOTHING
                        RETURNING ordered_by_key""")
                .bind("tenant", tenant).bind("topic", topic).bind("group", group).bind("ordered", ordered)
                .map((Readable row) -> row.get("ordered_by_key", Boolean.class))
                .one()
                // A new group starts at the oldest retained event of each partition, or at its head.
                .flatMap(created -> db.sql("""
                                INSERT INTO group_partitions (tenant_id, topic, group_name, partition, next_seq)
                                SELECT :tenant, :topic, :group, s.p, s.start + 1
                                FROM (SELECT g.p, CASE WHEN :latest THEN coalesce(pt.head, 0) ELSE coalesce(pt.first_seq, 1) - 1 END AS start
                                      FROM generate_series(0, :partitions - 1) AS g(p)
                                      LEFT JOIN partitions pt ON pt.tenant_id = :tenant AND pt.topic = :topic AND pt.partition = g.p) s""")
                        .bind("tenant", tenant).bind("topic", topic).bind("group", group)
                        .bind("latest", options.fromLatest()).bind("partitions", partitions)
                        .fetch().rowsUpdated()
                        .thenReturn(created)));
        // Almost every poll finds its group: a plain read, no transaction.
        return findGroup(tenant, topic, group).map(GroupInfo::orderedByKey)
                .switchIfEmpty(create)
                .switchIfEmpty(Mono.defer(() -> groupRow(tenant, topic, group).map(GroupInfo::orderedByKey)))
                .flatMap(actual -> options.orderedByKey() != null && options.orderedByKey() != actual
                        ? Mono.error(SwitchboardException.conflict("Group '" + group + "' exists and "
                        + (actual ? "keeps" : "does not keep") + " order per partitionkey; delete it to change that."))
                        : Mono.just(actual));
    }

    private Mono<List<Leased>> pollOnce(String tenant, String topic, String group, boolean ordered, int partitions,
                                        int maxAttempts, PollOptions options) {
        Mono<List<Leased>> work = lockCursors(tenant, topic, group, null)
                .flatMap(cursors -> cursors.size() >= partitions ? Mono.just(cursors)
                        : addPartitions(tenant, topic, group, partitions).then(lockCursors(tenant, topic, group, null)))
                .flatMap(cursors -> budget(tenant, topic, group, options).flatMap(budget -> {
                    List<Leased> out = new ArrayList<>();
                    if (budget <= 0) {
                        return Mono.just(out);
                    }
                    // Partitions in a rotating order, so one busy partition does not starve the others.
                    int start = ThreadLocalRandom.current().nextInt(cursors.size());
                    List<Cursor> rotated = new ArrayList<>(cursors.size());
                    for (int i = 0; i < cursors.size(); i++) {
                        rotated.add(cursors.get((start + i) % cursors.size()));
                    }
                    // An ordered group's sweep ran before this transaction: its exhausted flag is not needed.
                    return redeliver(tenant, topic, group, ordered, maxAttempts, budget, options, out)
                            .thenMany(Flux.fromIterable(rotated))
                            .concatMap(c -> out.size() >= budget ? Mono.empty()
                                    : leaseNew(tenant, topic, group, ordered, c, budget - out.size(), options, out))
                            .then(Mono.fromSupplier(() -> out));
                }));
        return tx.transactional(work);
    }

    /**
     * A poll of a group without order: due redeliveries, then new events partition by partition
     * (rotating, so one busy partition does not starve the others), each step one statement of its
     * own ({@link LeaseStatements}). Exhausted events found due are dead-lettered after.
     */
    private Mono<List<Leased>> pollUnordered(String tenant, String topic, String group, int partitions, int maxAttempts,
                                             PollOptions options) {
        return budget(tenant, topic, group, options).flatMap(budget -> {
            List<Leased> out = new ArrayList<>();
            if (budget <= 0) {
                return Mono.just(out);
            }
            return redeliver(tenant, topic, group, false, maxAttempts, budget, options, out)
                    .flatMap(exhausted -> exhausted ? sweepDeadLetters(tenant, topic, group, false, maxAttempts) : Mono.just(0))
                    .then(Mono.defer(() -> out.size() >= budget ? Mono.just(List.<Integer>of())
                            : partitionsWithNew(tenant, topic, group, partitions)))
                    .flatMapMany(Flux::fromIterable)
                    .concatMap(p -> out.size() >= budget ? Mono.empty()
                            : leaseNewUnordered(tenant, topic, group, p, partitions, budget - out.size(), options)
                            .doOnNext(out::addAll))
                    .then(Mono.fromSupplier(() -> out));
        });
    }

    /**
     * The partitions that may have events past the group's cursor, in a rotating order. One
     * partition: that one, without asking. Several: those whose head is at or past the cursor (a
     * plain read: a concurrent poll may take them first, which costs only a statement that finds
     * nothing), so a poll of a wide topic visits only partitions with something to lease.
     */
    private Mono<List<Integer>> partitionsWithNew(String tenant, String topic, String group, int partitions) {
        if (partitions == 1) {
            return Mono.just(List.of(0));
        }
        int start = ThreadLocalRandom.current().nextInt(partitions);
        return db.sql("""
                        SELECT g.p AS partition FROM generate_series(0, :partitions - 1) AS g(p)
                        LEFT JOIN group_partitions gp
                          ON gp.tenant_id = :tenant AND gp.topic = :topic AND gp.group_name = :group AND gp.partition = g.p
                        LEFT JOIN partitions pt ON pt.tenant_id = :tenant AND pt.topic = :topic AND pt.partition = g.p
                        WHERE gp.next_seq IS NULL OR pt.head >= gp.next_seq
                        ORDER BY (g.p + :partitions - :start) % :partitions""")
                .bind("tenant", tenant).bind("topic", topic).bind("group", group)
                .bind("partitions", partitions).bind("start", start)
                .map((Readable r) -> r.get("partition", Integer.class))
                .all()
                .collectList();
    }

    /** New events of one partition; a partition the group has no cursor for yet (the topic grew) gets one first. */
    private Mono<List<Leased>> leaseNewUnordered(String tenant, String topic, String group, int partition, int partitions, int n,
                                                 PollOptions options) {
        return statements.leaseNew(tenant, topic, group, partition, n, options.ackDeadline(), options.consumer())
                .flatMap(fresh -> fresh.cursorFound() ? Mono.just(fresh.leased())
                        // No cursor: the group was deleted meanwhile (404), or the topic has more partitions than it.
                        : groupRow(tenant, topic, group)
                        .then(addPartitions(tenant, topic, group, partitions))
                        .then(statements.leaseNew(tenant, topic, group, partition, n, options.ackDeadline(), options.consumer()))
                        .map(LeaseStatements.Fresh::leased));
    }

    /**
     * The topic has more partitions than when the group was created: the new ones are consumed
     * from their oldest retained event (their events are all newer than the group).
     */
    private Mono<Long> addPartitions(String tenant, String topic, String group, int partitions) {
        return db.sql("""
                        INSERT INTO group_partitions (tenant_id, topic, group_name, partition, next_seq)
                        SELECT :tenant, :topic, :group, g.p, coalesce(pt.first_seq, 1)
                        FROM generate_series(0, :partitions - 1) AS g(p)
                        LEFT JOIN partitions pt ON pt.tenant_id = :tenant AND pt.topic = :topic AND pt.partition = g.p
                        ON CONFLICT (tenant_id, topic, group_name, partition) DO NOTHING""")
                .bind("tenant", tenant).bind("topic", topic).bind("group", group).bind("partitions", partitions)
                .fetch().rowsUpdated();
    }

    /** How many events this poll may lease: {@code max}, less the consumer's live leases under {@code maxInFlight}. */
    private Mono<Integer> budget(String tenant, String topic, String group, PollOptions options) {
        if (options.consumer() == null || options.maxInFlight() == null) {
            return Mono.just(options.max());
        }
        return db.sql("""
                        SELECT count(*) AS n FROM (SELECT 1 FROM group_pending
                            WHERE tenant_id = :tenant AND topic = :topic AND group_name = :group
                              AND consumer = :consumer AND lease_until > now()
                            LIMIT :maxInFlight) live""")
                .bind("tenant", tenant).bind("topic", topic).bind("group", group).bind("consumer", options.consumer())
                .bind("maxInFlight", options.maxInFlight())
                .map((Readable row) -> row.get("n", Long.class))
                .one()
                .map(live -> (int) Math.max(0, Math.min(options.max(), options.maxInFlight() - live)));
    }

    /**
     * Due pending rows below maxAttempts (expired leases, passed delays, unblocked events of an
     * ordered group) leased again with attempt + 1, into {@code out}; those whose event expired or
     * was removed by retention are done (an ordered group's next event of their key unblocked).
     * Answers whether exhausted events wait in the due front for the dead-letter sweep.
     */
    private Mono<Boolean> redeliver(String tenant, String topic, String group, boolean ordered, int maxAttempts, int budget,
                                    PollOptions options, List<Leased> out) {
        return statements.redeliver(tenant, topic, group, maxAttempts, budget, options.ackDeadline(), options.consumer(), DUE_FRONT)
                .flatMap(r -> {
                    out.addAll(r.leased());
                    metrics.redelivered(tenant, (int) r.leased().stream().filter(l -> l.attempt() > 1).count());
                    Mono<Void> gone = r.goneSeqs().isEmpty() ? Mono.empty()
                            : deletePending(tenant, topic, group, ordered, r.goneParts(), r.goneSeqs());
                    return gone.thenReturn(r.exhaustedDue());
                });
    }

    private record Fresh(long seq, OffsetDateTime expiresAt, String envelope, String key) {
    }

    /**
     * Events never leased, from the partition's cursor: leased now, or (ordered groups) recorded as
     * waiting when an earlier event of their key is pending. Expired events are passed over (done).
     * The cursor moves past everything read.
     */
    private Mono<Void> leaseNew(String tenant, String topic, String group, boolean ordered, Cursor cursor, int n,
                                PollOptions options, List<Leased> out) {
        String key = ordered ? ", envelope::json ->> 'partitionkey' AS partition_key" : ", NULL::text AS partition_key";
        return db.sql("SELECT seq, expires_at, envelope" + key + """
                         FROM events
                        WHERE tenant_id = :tenant AND topic = :topic AND partition = :partition AND seq >= :next
                        ORDER BY seq LIMIT :n""")
                .bind("tenant", tenant).bind("topic", topic).bind("partition", cursor.partition())
                .bind("next", cursor.nextSeq()).bind("n", n)
                .map((Readable r) -> new Fresh(r.get("seq", Long.class), r.get("expires_at", OffsetDateTime.class),
                        r.get("envelope", String.class), r.get("partition_key", String.class)))
                .all()
                .collectList()
                .flatMap(rows -> {
                    if (rows.isEmpty()) {
                        return Mono.empty();
                    }
                    long next = rows.get(rows.size() - 1).seq() + 1;
                    Mono<Set<String>> blocked = ordered ? pendingKeys(tenant, topic, group, cursor.partition(), rows) : Mono.just(Set.of());
                    return blocked.flatMap(pendingKeys -> {
                        Instant now = Instant.now();
                        Set<String> taken = new HashSet<>(pendingKeys);
                        List<Long> seqs = new ArrayList<>();
                        List<Integer> attempts = new ArrayList<>();
                        List<String> keys = new ArrayList<>();
                        for (Fresh f : rows) {
                            if (f.expiresAt() != null && !f.expiresAt().toInstant().isAfter(now)) {
                                continue;
                            }
                            boolean waits = f.key() != null && !taken.add(f.key());
                            seqs.add(f.seq());
                            attempts.add(waits ? 0 : 1);
                            keys.add(f.key());
                            if (!waits) {
                                out.add(new Leased(cursor.partition(), f.seq(), 1, f.envelope()));
                            }
                        }
                        Mono<Long> insert = seqs.isEmpty() ? Mono.just(0L) : insertPending(tenant, topic, group, cursor.partition(),
                                seqs, attempts, keys, ordered, options);
                        return insert.then(db.sql("""
                                        UPDATE group_partitions SET next_seq = :next
                                        WHERE tenant_id = :tenant AND topic = :topic AND group_name = :group AND partition = :partition""")
                                .bind("next", next).bind("tenant", tenant).bind("topic", topic).bind("group", group)
                                .bind("partition", cursor.partition())
                                .fetch().rowsUpdated()).then();
                    });
                });
    }

    /** The keys among {@code rows} that have an event pending in the group (leased, delayed or waiting). */
    private Mono<Set<String>> pendingKeys(String tenant, String topic, String group, int partition, List<Fresh> rows) {
        String[] keys = rows.stream().map(Fresh::key).filter(k -> k != null).distinct().toArray(String[]::new);
        if (keys.length == 0) {
            return Mono.just(Set.of());
        }
        return db.sql("""
                        SELECT k.key AS partition_key FROM unnest(:keys::text[]) AS k(key)
                        WHERE EXISTS (SELECT 1 FROM group_pending
                                      WHERE tenant_id = :tenant AND topic = :topic AND group_name = :group
                                        AND partition = :partition AND partition_key = k.key)""")
                .bind("tenant", tenant).bind("topic", topic).bind("group", group).bind("partition", partition).bind("keys", keys)
                .map((Readable r) -> r.get("partition_key", String.class))
                .all()
                .collect(HashSet::new, Set::add);
    }

    private Mono<Long> insertPending(String tenant, String topic, String group, int partition, List<Long> seqs,
                                     List<Integer> attempts, List<String> keys, boolean ordered, PollOptions options) {
        DatabaseClient.GenericExecuteSpec insert = db.sql("""
                        INSERT INTO group_pending (tenant_id, topic, group_name, partition, seq, attempt, consumer, lease_until, visible_at, partition_key)
                        SELECT :tenant, :topic, :group, :partition, r.seq, r.attempt,
                               CASE WHEN r.attempt = 1 THEN :consumer::text END,
                               CASE WHEN r.attempt = 1 THEN now() + :deadlineMs * interval '1 millisecond' END,
                               CASE WHEN r.attempt = 1 THEN now() + :deadlineMs * interval '1 millisecond' ELSE 'infinity'::timestamptz END,
                               r.partition_key
                        FROM unnest(:seqs::bigint[], :attempts::int[], :keys::text[]) AS r(seq, attempt, partition_key)""")
                .bind("tenant", tenant).bind("topic", topic).bind("group", group).bind("partition", partition)
                .bind("deadlineMs", options.ackDeadline().toMillis())
                .bind("seqs", seqs.toArray(Long[]::new))
                .bind("attempts", attempts.toArray(Integer[]::new))
                // Only ordered groups look keys up; the others keep none.
                .bind("keys", ordered ? keys.toArray(String[]::new) : new String[seqs.size()]);
        insert = options.consumer() == null ? insert.bindNull("consumer", String.class) : insert.bind("consumer", options.consumer());
        return insert.fetch().rowsUpdated();
    }

    // ------------------------------------------------------------------------------------ ack, nack

    /**
     * The WHERE of an ack or a nack: the given seqs of the partition that were delivered (attempt
     * 1 or more). The seqs are a condition of the primary key's index, which visits (and locks) them
     * in seq order, so concurrent acks and nacks never deadlock; polls skip rows they hold. Binds
     * {@code tenant}, {@code topic}, {@code group}, {@code partition}, {@code seqs}.
     */
    private static final String DELIVERED_ROWS_LOCKED = """

            WHERE tenant_id = :tenant AND topic = :topic AND group_name = :group AND partition = :partition
              AND seq = ANY(:seqs::bigint[]) AND attempt >= 1
            """;

    /**
     * Marks delivered events of one partition done. A seq that is not pending in the group — already
     * acked, never delivered, beyond the cursor, or of another group — is ignored and reported so.
     * An ack after the lease expired still counts: the event was processed (at-least-once).
     *
     * <p>An ack of a group without order takes no turn at the cursor: it is one statement that
     * deletes its own rows (locked in seq order, so two acks never deadlock), and polls pass over
     * rows it holds (SKIP LOCKED), so acks and polls commit side by side. An ordered group's ack
     * takes the turn, because it may unblock the next event of a key that a concurrent poll would
     * otherwise record as waiting.
     */
    public Mono<AckResult> ack(String tenant, String topic, String group, int partition, List<Long> seqs) {
        return resolvePartition(tenant, topic, group, partition)
                .then(statements.ack(tenant, topic, group, partition, seqs))
                .flatMap(acked -> !acked.groupFound() ? Mono.error(noGroup(group))
                        : acked.ordered() ? ackOrdered(tenant, topic, group, partition, seqs)
                        : Mono.just(split(seqs, acked.acked())).map(s -> new AckResult(s.get(0), s.get(1))));
    }

    private Mono<AckResult> ackOrdered(String tenant, String topic, String group, int partition, List<Long> seqs) {
        return groupRow(tenant, topic, group)
                .flatMap(info -> tx.transactional(turn(tenant, topic, group, partition, info.orderedByKey())
                        .then(db.sql("DELETE FROM group_pending" + DELIVERED_ROWS_LOCKED + "RETURNING seq, partition_key")
                                .bind("tenant", tenant).bind("topic", topic).bind("group", group).bind("partition", partition)
                                .bind("seqs", seqs.toArray(Long[]::new))
                                .map((Readable r) -> new KeyedSeq(partition, r.get("seq", Long.class), r.get("partition_key", String.class)))
                                .all()
                                .collectList())
                        .flatMap(deleted -> unblock(tenant, topic, group, info.orderedByKey(), deleted)
                                .thenReturn(split(seqs, deleted.stream().map(KeyedSeq::seq).toList())))))
                .map(s -> new AckResult(s.get(0), s.get(1)));
    }

    /**
     * Hands delivered events back: each may be delivered again after {@code delay}; one that has
     * had {@code maxAttempts} deliveries goes to the dead-letter topic at once (with {@code reason}).
     */
    public Mono<NackResult> nack(String tenant, String topic, String group, int partition, List<Long> seqs, Duration delay,
                                 String reason) {
        return resolvePartition(tenant, topic, group, partition).flatMap(resolved -> groupRow(tenant, topic, group).flatMap(info -> {
            int maxAttempts = Math.max(1, resolved.settings().maxAttempts());
            DatabaseClient.GenericExecuteSpec update = db.sql("""
                            UPDATE group_pending SET lease_until = NULL, consumer = NULL, last_reason = :reason::text,
                                   visible_at = CASE WHEN attempt >= :maxAttempts THEN now() ELSE now() + :delayMs * interval '1 millisecond' END"""
                            + DELIVERED_ROWS_LOCKED + "RETURNING seq, attempt")
                    .bind("tenant", tenant).bind("topic", topic).bind("group", group).bind("partition", partition)
                    .bind("seqs", seqs.toArray(Long[]::new)).bind("maxAttempts", maxAttempts).bind("delayMs", delay.toMillis());
            update = reason == null ? update.bindNull("reason", String.class) : update.bind("reason", reason);
            DatabaseClient.GenericExecuteSpec statement = update;
            return tx.transactional(turn(tenant, topic, group, partition, info.orderedByKey())
                            .then(statement.map((Readable r) -> new long[]{r.get("seq", Long.class), r.get("attempt", Integer.class)})
                                    .all().collectList())
                            .flatMap(nacked -> nacked.isEmpty() || !delay.isZero() ? Mono.just(nacked)
                                    : wake(tenant, topic, List.of(partition)).thenReturn(nacked)))
                    .flatMap(nacked -> {
                        boolean exhausted = nacked.stream().anyMatch(n -> n[1] >= maxAttempts);
                        List<List<Long>> s = split(seqs, nacked.stream().map(n -> n[0]).toList());
                        Mono<Integer> dead = exhausted ? sweepDeadLetters(tenant, topic, group, info.orderedByKey(), maxAttempts) : Mono.just(0);
                        return dead.map(d -> new NackResult(s.get(0), s.get(1), d));
                    });
        }));
    }

    record KeyedSeq(int partition, long seq, String key) {
    }

    /** {@code requested} split into those in {@code done} and the others, each in request order, without repeats. */
    private static List<List<Long>> split(List<Long> requested, List<Long> done) {
        Set<Long> hit = new HashSet<>(done);
        List<Long> yes = new ArrayList<>();
        List<Long> no = new ArrayList<>();
        Set<Long> seen = new HashSet<>();
        for (Long s : requested) {
            if (seen.add(s)) {
                (hit.contains(s) ? yes : no).add(s);
            }
        }
        return List.of(yes, no);
    }

    // ------------------------------------------------------------------------------------ seek, status, list, delete

    /**
     * Moves the group: every pending event of the partitions concerned is dropped (acks of it are
     * ignored from now on) and the cursor set, so the events after the new position are delivered
     * again, as new (attempt 1).
     */
    public Mono<Status> seek(String tenant, String topic, String group, SeekTarget target) {
        return resolve(tenant, topic, group).flatMap(resolved -> {
            int partitions = resolved.settings().partitions();
            if (target.partition() != null && (target.partition() < 0 || target.partition() >= partitions)) {
                return Mono.error(noPartition(target.partition(), partitions));
            }
            Integer partition = target.after() != null && target.partition() == null ? Integer.valueOf(0) : target.partition();
            if (target.after() != null && target.partition() == null && partitions > 1) {
                return Mono.error(SwitchboardException.invalid("The topic has " + partitions
                        + " partitions: say which one 'after' is for ('partition')."));
            }
            String start = target.after() != null ? ":after"
                    : "head".equals(target.to()) ? "coalesce(pt.head, 0)" : "coalesce(pt.first_seq, 1) - 1";
            Mono<Void> check = target.after() == null ? Mono.empty() : db.sql("""
                            SELECT coalesce((SELECT head FROM partitions WHERE tenant_id = :tenant AND topic = :topic AND partition = :partition), 0) AS head""")
                    .bind("tenant", tenant).bind("topic", topic).bind("partition", partition)
                    .map((Readable r) -> r.get("head", Long.class))
                    .one()
                    .flatMap(head -> target.after() > head
                            ? Mono.error(SwitchboardException.invalid("after " + target.after() + " is beyond the partition's head " + head + "."))
                            : Mono.empty());
            DatabaseClient.GenericExecuteSpec move = db.sql("UPDATE group_partitions gp SET next_seq = " + start + """
                             + 1
                            FROM group_partitions g LEFT JOIN partitions pt
                              ON pt.tenant_id = g.tenant_id AND pt.topic = g.topic AND pt.partition = g.partition
                            WHERE g.tenant_id = :tenant AND g.topic = :topic AND g.group_name = :group
                              AND (CAST(:partition AS integer) IS NULL OR g.partition = :partition)
                              AND gp.tenant_id = g.tenant_id AND gp.topic = g.topic AND gp.group_name = g.group_name AND gp.partition = g.partition""")
                    .bind("tenant", tenant).bind("topic", topic).bind("group", group);
            move = partition == null ? move.bindNull("partition", Integer.class) : move.bind("partition", partition);
            if (target.after() != null) {
                move = move.bind("after", target.after());
            }
            DatabaseClient.GenericExecuteSpec drop = db.sql("""
                            DELETE FROM group_pending
                            WHERE tenant_id = :tenant AND topic = :topic AND group_name = :group
                              AND (partition, seq) IN (SELECT partition, seq FROM group_pending
                                                       WHERE tenant_id = :tenant AND topic = :topic AND group_name = :group
                                                         AND (CAST(:partition AS integer) IS NULL OR partition = :partition)
                                                       ORDER BY partition, seq FOR UPDATE)""")
                    .bind("tenant", tenant).bind("topic", topic).bind("group", group);
            drop = partition == null ? drop.bindNull("partition", Integer.class) : drop.bind("partition", partition);
            DatabaseClient.GenericExecuteSpec moveStatement = move;
            DatabaseClient.GenericExecuteSpec dropStatement = drop;
            return groupRow(tenant, topic, group)
                    .then(check)
                    .then(tx.transactional(lockCursors(tenant, topic, group, partition)
                            .then(dropStatement.fetch().rowsUpdated())
                            .then(moveStatement.fetch().rowsUpdated())))
                    .then(status(tenant, topic, group));
        });
    }

    /**
     * Where the group stands per partition. {@code committed} never lies below what retention still
     * keeps: events retention removed before the group got to them are lost to it, not owed, so
     * an abandoned group's lag stops at the topic's retained events.
     */
    public Mono<Status> status(String tenant, String topic, String group) {
        return resolve(tenant, topic, group).then(groupRow(tenant, topic, group)).flatMap(info -> db.sql("""
                        SELECT gp.partition, gp.dead_lettered, coalesce(pt.head, 0) AS head,
                               greatest(coalesce((SELECT min(l.seq) FROM group_pending l
                                                  WHERE l.tenant_id = gp.tenant_id AND l.topic = gp.topic AND l.group_name = gp.group_name
                                                    AND l.partition = gp.partition), gp.next_seq) - 1,
                                        coalesce(pt.first_seq, 1) - 1) AS committed,
                               (SELECT count(*) FROM group_pending l
                                WHERE l.tenant_id = gp.tenant_id AND l.topic = gp.topic AND l.group_name = gp.group_name
                                  AND l.partition = gp.partition AND l.lease_until > now()) AS in_flight
                        FROM group_partitions gp
                        LEFT JOIN partitions pt ON pt.tenant_id = gp.tenant_id AND pt.topic = gp.topic AND pt.partition = gp.partition
                        WHERE gp.tenant_id = :tenant AND gp.topic = :topic AND gp.group_name = :group
                        ORDER BY gp.partition LIMIT :n""")
                .bind("tenant", tenant).bind("topic", topic).bind("group", group).bind("n", MAX_PARTITIONS)
                .map((Readable r) -> {
                    long committed = r.get("committed", Long.class);
                    long head = r.get("head", Long.class);
                    return new PartitionStatus(r.get("partition", Integer.class), committed, head, Math.max(0, head - committed),
                            r.get("in_flight", Long.class), r.get("dead_lettered", Long.class));
                })
                .all()
                .collectList()
                .map(parts -> new Status(group, topic, info.orderedByKey(), info.createdAt(), parts)));
    }

    public Mono<List<GroupInfo>> list(String tenant, String topic, String after, int limit) {
        return resolveTopic(tenant, topic).flatMap(resolved -> db.sql("""
                        SELECT group_name, ordered_by_key, created_at FROM consumer_groups
                        WHERE tenant_id = :tenant AND topic = :topic AND group_name > :after
                        ORDER BY group_name LIMIT :n""")
                .bind("tenant", tenant).bind("topic", topic).bind("after", after == null ? "" : after)
                .bind("n", Math.min(limit, MAX_LISTED))
                .map((Readable r) -> new GroupInfo(r.get("group_name", String.class), r.get("ordered_by_key", Boolean.class),
                        r.get("created_at", OffsetDateTime.class).toInstant()))
                .all()
                .collectList());
    }

    /**
     * Deletes the group, its cursors and whatever it had pending; unknown → 404. The cursors go
     * first (with the group, by cascade): that waits for a poll holding one, so the pending rows
     * deleted next include whatever that poll leased.
     */
    public Mono<Void> delete(String tenant, String topic, String group) {
        return resolve(tenant, topic, group).then(tx.transactional(db.sql("""
                        DELETE FROM consumer_groups WHERE tenant_id = :tenant AND topic = :topic AND group_name = :group""")
                .bind("tenant", tenant).bind("topic", topic).bind("group", group)
                .fetch().rowsUpdated()
                .flatMap(n -> n == 0 ? Mono.error(noGroup(group)) : db.sql("""
                                DELETE FROM group_pending WHERE tenant_id = :tenant AND topic = :topic AND group_name = :group""")
                        .bind("tenant", tenant).bind("topic", topic).bind("group", group)
                        .fetch().rowsUpdated()
                        .then())));
    }

    // ------------------------------------------------------------------------------------ dead letters

    private record Dead(int partition, long seq, int attempt, boolean leaseExpired, String reason, String envelope,
                        OffsetDateTime expiresAt) {
    }

    /** Most events one sweep dead-letters. */
    private static final int DEAD_LETTERS_PER_SWEEP = 100;
    /**
     * How far into the due rows (oldest first) a sweep looks for exhausted events. Bounded, so a
     * backlog of expired leases costs every poll the same; the front moves as polls redeliver them.
     */
    private static final int DUE_FRONT = 2000;

    /**
     * Events that had their {@code maxAttempts} deliveries and are due again (lease expired, or
     * nacked) go to {@code {topic}.dlq} and are done for the group. Published first, each on its own
     * (an idempotent id: see {@link DeadLetters}), then removed from the pending rows in one
     * transaction; one that could not be published stays pending and is tried on the next poll.
     * Events that expired or were removed by retention meanwhile are done without a dead letter.
     */
    Mono<Integer> sweepDeadLetters(String tenant, String topic, String group, boolean ordered, int maxAttempts) {
        return db.sql("""
                        SELECT l.partition, l.seq, l.attempt, l.lease_until IS NOT NULL AS lease_expired, l.last_reason,
                               e.envelope, e.expires_at
                        FROM (SELECT * FROM (SELECT partition, seq, attempt, lease_until, last_reason, visible_at FROM group_pending
                                             WHERE tenant_id = :tenant AND topic = :topic AND group_name = :group AND visible_at <= now()
                                             ORDER BY visible_at LIMIT :scan) front
                              WHERE attempt >= :maxAttempts ORDER BY visible_at LIMIT :n) l
                        LEFT JOIN events e ON e.tenant_id = :tenant AND e.topic = :topic AND e.partition = l.partition AND e.seq = l.seq
                        ORDER BY l.partition, l.seq""")
                .bind("tenant", tenant).bind("topic", topic).bind("group", group)
                .bind("maxAttempts", maxAttempts).bind("n", DEAD_LETTERS_PER_SWEEP).bind("scan", DUE_FRONT)
                .map((Readable r) -> new Dead(r.get("partition", Integer.class), r.get("seq", Long.class), r.get("attempt", Integer.class),
                        r.get("lease_expired", Boolean.class), r.get("last_reason", String.class), r.get("envelope", String.class),
                        r.get("expires_at", OffsetDateTime.class)))
                .all()
                .collectList()
                .flatMap(rows -> {
                    if (rows.isEmpty()) {
                        return Mono.just(0);
                    }
                    Instant now = Instant.now();
                    List<Dead> done = new ArrayList<>();
                    Set<Long> lettered = new HashSet<>();
                    return Flux.fromIterable(rows)
                            .concatMap(d -> {
                                if (d.envelope() == null || (d.expiresAt() != null && !d.expiresAt().toInstant().isAfter(now))) {
                                    done.add(d);
                                    return Mono.empty();
                                }
                                String reason = d.leaseExpired() ? "ack deadline expired" : d.reason() == null ? "nacked" : d.reason();
                                return deadLetters.publish(tenant, topic, group, d.partition(), d.seq(), d.attempt(), reason, d.envelope())
                                        .doOnNext(ok -> {
                                            if (ok) {
                                                done.add(d);
                                                lettered.add(((long) d.partition() << 48) ^ d.seq());
                                            }
                                        });
                            })
                            .then(Mono.defer(() -> done.isEmpty() ? Mono.just(0) : tx.transactional(lockCursors(tenant, topic, group, null)
                                    .then(db.sql("""
                                                    DELETE FROM group_pending
                                                    WHERE tenant_id = :tenant AND topic = :topic AND group_name = :group
                                                      AND (partition, seq) IN (
                                                          SELECT partition, seq FROM group_pending
                                                          WHERE tenant_id = :tenant AND topic = :topic AND group_name = :group
                                                            AND (partition, seq) IN (SELECT * FROM unnest(:parts::int[], :seqs::bigint[]))
                                                          ORDER BY partition, seq FOR UPDATE)
                                                      AND attempt >= :maxAttempts AND visible_at <= now()
                                                    RETURNING partition, seq, partition_key""")
                                            .bind("tenant", tenant).bind("topic", topic).bind("group", group)
                                            .bind("parts", done.stream().map(Dead::partition).toArray(Integer[]::new))
                                            .bind("seqs", done.stream().map(Dead::seq).toArray(Long[]::new))
                                            .bind("maxAttempts", maxAttempts)
                                            .map((Readable r) -> new KeyedSeq(r.get("partition", Integer.class), r.get("seq", Long.class),
                                                    r.get("partition_key", String.class)))
                                            .all()
                                            .collectList())
                                    .flatMap(deleted -> {
                                        List<KeyedSeq> dead = deleted.stream()
                                                .filter(k -> lettered.contains(((long) k.partition() << 48) ^ k.seq())).toList();
                                        Mono<Void> count = dead.isEmpty() ? Mono.empty() : db.sql("""
                                                        UPDATE group_partitions gp SET dead_lettered = gp.dead_lettered + c.n
                                                        FROM (SELECT p, count(*) AS n FROM unnest(:parts::int[]) AS u(p) GROUP BY p) c
                                                        WHERE gp.tenant_id = :tenant AND gp.topic = :topic AND gp.group_name = :group AND gp.partition = c.p""")
                                                .bind("tenant", tenant).bind("topic", topic).bind("group", group)
                                                .bind("parts", dead.stream().map(KeyedSeq::partition).toArray(Integer[]::new))
                                                .fetch().rowsUpdated().then();
                                        return count.then(unblock(tenant, topic, group, ordered, deleted))
                                                .then(Mono.fromCallable(() -> {
                                                    metrics.deadLettered(tenant, dead.size());
                                                    return dead.size();
                                                }));
                                    }))));
                });
    }

    // ------------------------------------------------------------------------------------ shared steps

    /**
     * Locks the group's cursor rows — all of them, or one partition's — in partition order: the
     * turn every operation on the group takes first. No rows: the group does not exist (404).
     */
    Mono<List<Cursor>> lockCursors(String tenant, String topic, String group, Integer partition) {
        DatabaseClient.GenericExecuteSpec lock = db.sql("""
                        SELECT partition, next_seq FROM group_partitions
                        WHERE tenant_id = :tenant AND topic = :topic AND group_name = :group
                          AND (CAST(:partition AS integer) IS NULL OR partition = :partition)
                        ORDER BY partition LIMIT :n
                        FOR UPDATE""")
                .bind("tenant", tenant).bind("topic", topic).bind("group", group).bind("n", MAX_PARTITIONS);
        lock = partition == null ? lock.bindNull("partition", Integer.class) : lock.bind("partition", partition);
        return lock.map((Readable r) -> new Cursor(r.get("partition", Integer.class), r.get("next_seq", Long.class)))
                .all()
                .collectList()
                .flatMap(cursors -> cursors.isEmpty() ? Mono.error(noGroup(group)) : Mono.just(cursors));
    }

    /** The cursor's turn for an ack or nack: an ordered group's only (see {@link #ack}). */
    private Mono<Void> turn(String tenant, String topic, String group, int partition, boolean ordered) {
        return ordered ? lockCursors(tenant, topic, group, partition).then() : Mono.empty();
    }

    /** Done pending rows of an ordered group unblock the next waiting event of their keys. */
    Mono<Void> unblock(String tenant, String topic, String group, boolean ordered, List<KeyedSeq> done) {
        List<KeyedSeq> keyed = done.stream().filter(k -> k.key() != null).toList();
        if (!ordered || keyed.isEmpty()) {
            return Mono.empty();
        }
        return db.sql("""
                        UPDATE group_pending g SET visible_at = now()
                        FROM (SELECT DISTINCT ON (l.partition, l.partition_key) l.partition, l.seq, l.visible_at
                              FROM group_pending l
                              JOIN unnest(:parts::int[], :keys::text[]) AS k(partition, partition_key)
                                ON l.partition = k.partition AND l.partition_key = k.partition_key
                              WHERE l.tenant_id = :tenant AND l.topic = :topic AND l.group_name = :group
                              ORDER BY l.partition, l.partition_key, l.seq) first
                        WHERE g.tenant_id = :tenant AND g.topic = :topic AND g.group_name = :group
                          AND g.partition = first.partition AND g.seq = first.seq AND first.visible_at = 'infinity'""")
                .bind("tenant", tenant).bind("topic", topic).bind("group", group)
                .bind("parts", keyed.stream().map(KeyedSeq::partition).toArray(Integer[]::new))
                .bind("keys", keyed.stream().map(KeyedSeq::key).toArray(String[]::new))
                .fetch().rowsUpdated()
                .flatMap(n -> n > 0 ? wake(tenant, topic, keyed.stream().map(KeyedSeq::partition).distinct().toList()) : Mono.empty());
    }

    /**
     * Events became deliverable without a new head (unblocked, or nacked without delay): NOTIFY the
     * partitions' current heads (sent on commit), which wakes long-polls on every instance at once
     * instead of at their next re-check. Live streams see no new head and read nothing.
     */
    Mono<Void> wake(String tenant, String topic, List<Integer> partitions) {
        return db.sql("SELECT pg_notify(:channel, " + HeadNotifier.PAYLOAD_SQL + """
                        ) AS notified FROM partitions
                        WHERE tenant_id = :tenant AND topic = :topic AND partition = ANY(:parts::int[])""")
                .bind("channel", HeadNotifier.CHANNEL).bind("tenant", tenant).bind("topic", topic)
                .bind("parts", partitions.toArray(Integer[]::new))
                .map((Readable r) -> 1)
                .all()
                .then();
    }

    /** Deletes pending rows (done without delivery: expired or removed by retention) and unblocks their keys. */
    Mono<Void> deletePending(String tenant, String topic, String group, boolean ordered, List<Integer> partitions,
                             List<Long> seqs) {
        return db.sql("""
                        DELETE FROM group_pending
                        WHERE tenant_id = :tenant AND topic = :topic AND group_name = :group
                          AND (partition, seq) IN (SELECT * FROM unnest(:parts::int[], :seqs::bigint[]))
                        RETURNING partition, seq, partition_key""")
                .bind("tenant", tenant).bind("topic", topic).bind("group", group)
                .bind("parts", partitions.toArray(Integer[]::new)).bind("seqs", seqs.toArray(Long[]::new))
                .map((Readable r) -> new KeyedSeq(r.get("partition", Integer.class), r.get("seq", Long.class), r.get("partition_key", String.class)))
                .all()
                .collectList()
                .flatMap(deleted -> unblock(tenant, topic, group, ordered, deleted));
    }

    Mono<GroupInfo> groupRow(String tenant, String topic, String group) {
        return findGroup(tenant, topic, group).switchIfEmpty(Mono.error(() -> noGroup(group)));
    }

    private Mono<GroupInfo> findGroup(String tenant, String topic, String group) {
        return db.sql("""
                        SELECT group_name, ordered_by_key, created_at FROM consumer_groups
                        WHERE tenant_id = :tenant AND topic = :topic AND group_name = :group""")
                .bind("tenant", tenant).bind("topic", topic).bind("group", group)
                .map((Readable r) -> new GroupInfo(r.get("group_name", String.class), r.get("ordered_by_key", Boolean.class),
                        r.get("created_at", OffsetDateTime.class).toInstant()))
                .one();
    }

    private Mono<ResolvedTopic> resolveTopic(String tenant, String topic) {
        if (!TopicNames.isValidTenantId(tenant)) {
            return Mono.error(SwitchboardException.invalid("Invalid tenant id."));
        }
        if (!TopicNames.isValidTopicName(topic)) {
            return Mono.error(SwitchboardException.invalid("Invalid topic name '" + topic + "'."));
        }
        return topics.resolve(tenant, topic);
    }

    private Mono<ResolvedTopic> resolve(String tenant, String topic, String group) {
        if (!GroupNames.isValidGroup(group)) {
            return Mono.error(SwitchboardException.invalid("Invalid group name: " + GroupNames.GROUP_PATTERN + "."));
        }
        return resolveTopic(tenant, topic);
    }

    private Mono<ResolvedTopic> resolvePartition(String tenant, String topic, String group, int partition) {
        return resolve(tenant, topic, group).flatMap(resolved -> partition < 0 || partition >= resolved.settings().partitions()
                ? Mono.error(noPartition(partition, resolved.settings().partitions()))
                : Mono.just(resolved));
    }

    private static SwitchboardException noPartition(int partition, int partitions) {
        return SwitchboardException.invalid("Partition " + partition + " does not exist (the topic has " + partitions + ").");
    }

    static SwitchboardException noGroup(String group) {
        return SwitchboardException.notFound("No consumer group '" + group + "' on this topic.");
    }
}
