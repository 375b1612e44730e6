package dev.switchboard.delivery.group;

import dev.switchboard.delivery.group.ConsumerGroups.Leased;
import io.r2dbc.spi.Readable;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Leasing and acking in single statements. For a group that does not keep order per key they are
 * the whole hot path, each step in a transaction of its own, so a poll costs two round trips to
 * PostgreSQL and an ack one, and a cursor row is locked only for the statement that moves it.
 * {@link #redeliver} also serves ordered groups, inside the transaction that holds their cursors.
 *
 * <p>Why one statement is enough: redeliveries lock the due rows they take with {@code FOR UPDATE
 * SKIP LOCKED}, so two consumers never take the same row; new events are taken by whoever holds the
 * partition's cursor row, which the statement locks first and moves past what it read before it
 * commits. Nothing else of the group needs to be held, because without order per key no event
 * waits for another. Groups that keep order take the transactional path of {@link ConsumerGroups}.
 */
@Component
class LeaseStatements {

    /** What {@link #redeliver} found: the events leased again, those gone meanwhile, and whether exhausted events wait for the dead-letter sweep. */
    record Redelivered(List<Leased> leased, List<Long> goneSeqs, List<Integer> goneParts, boolean exhaustedDue) {
    }

    /** What {@link #leaseNew} found: the events leased, or that the group has no cursor for the partition. */
    record Fresh(List<Leased> leased, boolean cursorFound) {
    }

    /** An ack's outcome: the seqs acked, or why nothing was done (no such group; it keeps order, so the caller must take the ordered path). */
    record Acked(List<Long> acked, boolean groupFound, boolean ordered) {
    }

    private final DatabaseClient db;

    LeaseStatements(DatabaseClient db) {
        this.db = db;
    }

    /**
     * Leases again, to {@code consumer}, up to {@code n} due rows below {@code maxAttempts} (expired
     * leases, passed delays), oldest due first. Rows whose event expired or was removed by retention
     * come back as gone (now leased to this poll, for the caller to delete). The last row of the
     * answer says whether due rows at {@code maxAttempts} lie in the front the dead-letter sweep reads.
     */
    Mono<Redelivered> redeliver(String tenant, String topic, String group, int maxAttempts, int n, Duration ackDeadline,
                                String consumer, int sweepFront) {
        DatabaseClient.GenericExecuteSpec spec = db.sql("""
                        WITH l AS (
                          SELECT partition, seq FROM group_pending
                          WHERE tenant_id = :tenant AND topic = :topic AND group_name = :group
                            AND visible_at <= now() AND attempt < :maxAttempts
                          ORDER BY visible_at LIMIT :n
                          FOR UPDATE SKIP LOCKED),
                        u AS (
                          UPDATE group_pending g SET attempt = g.attempt + 1, consumer = :consumer::text,
                                 lease_until = now() + :deadlineMs * interval '1 millisecond',
                                 visible_at = now() + :deadlineMs * interval '1 millisecond'
                          FROM l
                          WHERE g.tenant_id = :tenant AND g.topic = :topic AND g.group_name = :group
                            AND g.partition = l.partition AND g.seq = l.seq
                          RETURNING g.partition, g.seq, g.attempt)
                        SELECT u.partition, u.seq, u.attempt,
                               CASE WHEN e.expires_at IS NULL OR e.expires_at > now() THEN e.envelope END AS envelope
                        FROM u LEFT JOIN events e
                          ON e.tenant_id = :tenant AND e.topic = :topic AND e.partition = u.partition AND e.seq = u.seq
                        UNION ALL
                        SELECT -1, -1, CASE WHEN EXISTS (
                                   SELECT 1 FROM (SELECT attempt FROM group_pending
                                                  WHERE tenant_id = :tenant AND topic = :topic AND group_name = :group
                                                    AND visible_at <= now()
                                                  ORDER BY visible_at LIMIT :front) f
                                   WHERE f.attempt >= :maxAttempts) THEN 1 ELSE 0 END, NULL
                        ORDER BY 1, 2""")
                .bind("tenant", tenant).bind("topic", topic).bind("group", group)
                .bind("maxAttempts", maxAttempts).bind("n", n).bind("front", sweepFront)
                .bind("deadlineMs", ackDeadline.toMillis());
        spec = consumer == null ? spec.bindNull("consumer", String.class) : spec.bind("consumer", consumer);
        return spec.map((Readable r) -> new Leased(r.get("partition", Integer.class), r.get("seq", Long.class),
                        r.get("attempt", Integer.class), r.get("envelope", String.class)))
                .all()
                .collectList()
                .map(rows -> {
                    List<Leased> leased = new ArrayList<>();
                    List<Long> goneSeqs = new ArrayList<>();
                    List<Integer> goneParts = new ArrayList<>();
                    boolean exhausted = false;
                    for (Leased row : rows) {
                        if (row.partition() < 0) {
                            exhausted = row.attempt() == 1;
                        } else if (row.envelope() == null) {
                            goneSeqs.add(row.seq());
                            goneParts.add(row.partition());
                        } else {
                            leased.add(row);
                        }
                    }
                    return new Redelivered(leased, goneSeqs, goneParts, exhausted);
                });
    }

    /**
     * Leases to {@code consumer} up to {@code n} events never leased of one partition, from its
     * cursor on, and moves the cursor past everything read (expired events are passed over: done).
     * The cursor row is locked for this statement only; a concurrent poll of the partition waits
     * for it, then reads from where it left the cursor.
     */
    Mono<Fresh> leaseNew(String tenant, String topic, String group, int partition, int n, Duration ackDeadline, String consumer) {
        DatabaseClient.GenericExecuteSpec spec = db.sql("""
                        WITH c AS (
                          SELECT next_seq FROM group_partitions
                          WHERE tenant_id = :tenant AND topic = :topic AND group_name = :group AND partition = :partition
                          FOR UPDATE),
                        e AS (
                          SELECT ev.seq, ev.envelope, ev.expires_at IS NULL OR ev.expires_at > now() AS live
                          FROM c CROSS JOIN LATERAL (
                            SELECT seq, envelope, expires_at FROM events
                            WHERE tenant_id = :tenant AND topic = :topic AND partition = :partition AND seq >= c.next_seq
                            ORDER BY seq LIMIT :n) ev),
                        ins AS (
                          INSERT INTO group_pending (tenant_id, topic, group_name, partition, seq, attempt, consumer, lease_until, visible_at)
                          SELECT :tenant, :topic, :group, :partition, e.seq, 1, :consumer::text,
                                 now() + :deadlineMs * interval '1 millisecond', now() + :deadlineMs * interval '1 millisecond'
                          FROM e WHERE e.live),
                        moved AS (
                          UPDATE group_partitions SET next_seq = (SELECT max(seq) + 1 FROM e)
                          WHERE tenant_id = :tenant AND topic = :topic AND group_name = :group AND partition = :partition
                            AND EXISTS (SELECT 1 FROM e))
                        SELECT e.seq, e.envelope FROM e WHERE e.live
                        UNION ALL
                        SELECT -1, CASE WHEN EXISTS (SELECT 1 FROM c) THEN 'cursor' END
                        ORDER BY 1""")
                .bind("tenant", tenant).bind("topic", topic).bind("group", group).bind("partition", partition)
                .bind("n", n).bind("deadlineMs", ackDeadline.toMillis());
        spec = consumer == null ? spec.bindNull("consumer", String.class) : spec.bind("consumer", consumer);
        return spec.map((Readable r) -> new Leased(partition, r.get("seq", Long.class), 1, r.get("envelope", String.class)))
                .all()
                .collectList()
                .map(rows -> {
                    List<Leased> leased = new ArrayList<>(rows.size());
                    boolean cursor = false;
                    for (Leased row : rows) {
                        if (row.seq() < 0) {
                            cursor = row.envelope() != null;
                        } else {
                            leased.add(row);
                        }
                    }
                    return new Fresh(leased, cursor);
                });
    }

    /**
     * Deletes the delivered pending rows of {@code seqs} (one partition), if the group exists and
     * does not keep order. The rows are found through the primary key, so they are locked in seq
     * order, as every other statement that locks several of them does.
     */
    Mono<Acked> ack(String tenant, String topic, String group, int partition, List<Long> seqs) {
        return db.sql("""
                        WITH g AS (
                          SELECT ordered_by_key FROM consumer_groups
                          WHERE tenant_id = :tenant AND topic = :topic AND group_name = :group),
                        d AS (
                          DELETE FROM group_pending
                          WHERE tenant_id = :tenant AND topic = :topic AND group_name = :group AND partition = :partition
                            AND seq = ANY(:seqs::bigint[]) AND attempt >= 1
                            AND EXISTS (SELECT 1 FROM g WHERE NOT g.ordered_by_key)
                          RETURNING seq)
                        SELECT seq, 0 AS state FROM d
                        UNION ALL
                        SELECT -1, CASE WHEN NOT EXISTS (SELECT 1 FROM g) THEN 1
                                        WHEN (SELECT ordered_by_key FROM g) THEN 2 ELSE 0 END""")
                .bind("tenant", tenant).bind("topic", topic).bind("group", group).bind("partition", partition)
                .bind("seqs", seqs.toArray(Long[]::new))
                .map((Readable r) -> new long[]{r.get("seq", Long.class), r.get("state", Integer.class)})
                .all()
                .collectList()
                .map(rows -> {
                    List<Long> acked = new ArrayList<>(rows.size());
                    int state = 0;
                    for (long[] row : rows) {
                        if (row[0] < 0) {
                            state = (int) row[1];
                        } else {
                            acked.add(row[0]);
                        }
                    }
                    return new Acked(acked, state != 1, state == 2);
                });
    }
}
