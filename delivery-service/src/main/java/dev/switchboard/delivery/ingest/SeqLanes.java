package dev.switchboard.delivery.ingest;

import dev.switchboard.delivery.ingest.PendingEvent.DedupKey;
import dev.switchboard.delivery.ingest.PendingEvent.PartitionKey;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The order in which this instance's group-commit transactions lock each topic partition's row,
 * and the seqs they will get if nothing else writes the partition meanwhile.
 *
 * <p>Why: a partition's row lock is held from seq assignment to commit, so whatever a transaction
 * does under it is serialised with every other commit of that partition. When this instance knows
 * the partition's head — the last of its own transactions in line has locked the row and seen it —
 * a new transaction takes its seqs as a prediction, writes its dedup keys and events first, in
 * parallel with the transactions ahead of it, and locks the row only to check the prediction and
 * commit. The check is the assignment itself ({@code head = head + n} under the lock): a head other
 * than predicted — another instance wrote the partition, or a transaction ahead of it failed — rolls
 * the transaction back and it runs again the pessimistic way (lock first, then write). A committed
 * seq is therefore always the one the row lock handed out, and the log stays gap-free whatever the
 * prediction did.
 *
 * <p>Tickets lock a partition's row in the order they were issued: a ticket sends its lock only once
 * the ticket ahead of it in that partition holds its lock (or has given up), so two transactions of
 * this instance never overtake each other at the row and spoil a prediction.
 *
 * <p>No wait between tickets closes a cycle: a ticket waits only for tickets issued before it — for
 * its turn at a row, and, before it writes anything, for earlier tickets holding one of its dedup
 * keys to finish — so a later ticket never holds a key that an earlier one waits for in PostgreSQL.
 * (Across instances PostgreSQL's {@code lock_timeout} ends any wait that could still go round;
 * the timed-out transaction runs again the pessimistic way.)
 *
 * <p>A partition found written by someone else — a lock that sees a head above the highest this
 * instance has locked at, or a prediction that ran into another transaction's rows — goes lock-first
 * for a while (doubling up to {@link #MAX_BACKOFF} while that goes on): several instances publishing
 * to one partition then simply take turns at the row lock, as without predictions. A ticket with no
 * ticket of ours in flight ahead of it locks first too: there is nothing to overlap with.
 */
final class SeqLanes {

    static final Duration INITIAL_BACKOFF = Duration.ofSeconds(1);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    private static final long UNKNOWN = -1;

    private static final class Lane {
        /** The head this partition will have after every ticket in the lane, or UNKNOWN. */
        long head = UNKNOWN;
        /** Tickets not finished yet, in the order they were issued (at most one per commit in flight). */
        final ArrayDeque<Ticket> open = new ArrayDeque<>();
        /** Bumped whenever a ticket of ours fails or mispredicts: tickets issued before it predicted wrong. */
        long breaks;
        /** System.nanoTime() from which tickets may predict again (compare by difference: nanoTime wraps). */
        long predictFrom = System.nanoTime();
        long backoffNanos = INITIAL_BACKOFF.toNanos();
        /** The highest head a ticket of ours has locked the row at: a lock that finds more was written by someone else. */
        long maxLocked = UNKNOWN;

        /** Someone else writes this partition: no predictions for a while, longer while it goes on. */
        void backOff(long now) {
            predictFrom = now + backoffNanos;
            backoffNanos = Math.min(backoffNanos * 2, MAX_BACKOFF.toNanos());
        }
    }

    /** Lanes kept (for their back-off and highest head) once idle, before idle ones are dropped. */
    static final int MAX_LANES = 4096;

    private final Map<PartitionKey, Lane> lanes = new HashMap<>();
    private final Map<DedupKey, Ticket> heldKeys = new HashMap<>();

    /**
     * A ticket for one transaction over the partitions in {@code counts} (events per partition) and
     * the dedup {@code keys} it will write; with a prediction of its seqs when {@code mayPredict} and
     * every lane knows its head.
     */
    synchronized Ticket issue(SortedMap<PartitionKey, Integer> counts, List<DedupKey> keys, boolean mayPredict) {
        long now = System.nanoTime();
        boolean predict = mayPredict && !counts.isEmpty();
        for (PartitionKey p : counts.keySet()) {
            Lane lane = lanes.get(p);
            // With nothing in flight ahead there is nothing to overlap with: lock first.
            if (lane == null || lane.open.isEmpty() || lane.head == UNKNOWN || now - lane.predictFrom < 0) {
                predict = false;
            }
        }
        if (lanes.size() > MAX_LANES) {
            lanes.values().removeIf(lane -> lane.open.isEmpty());
        }
        Ticket ticket = new Ticket(counts, predict);
        for (Map.Entry<PartitionKey, Integer> entry : counts.entrySet()) {
            Lane lane = lanes.computeIfAbsent(entry.getKey(), k -> new Lane());
            Ticket tail = lane.open.peekLast();
            if (tail != null) {
                ticket.turns.add(tail.locked.asMono());
            }
            if (predict) {
                ticket.firstSeqs.put(entry.getKey(), lane.head + 1);
                lane.head += entry.getValue();
            } else {
                // Known again once a ticket of the lane has locked the row and seen it.
                lane.head = UNKNOWN;
            }
            ticket.breaksAtIssue.put(entry.getKey(), lane.breaks);
            lane.open.addLast(ticket);
        }
        for (DedupKey key : keys) {
            Ticket holder = heldKeys.put(key, ticket);
            if (holder != null && holder != ticket) {
                ticket.keyHolders.add(holder.done.asMono());
            }
        }
        ticket.keys = keys;
        return ticket;
    }

    /** Partitions with a lane right now (a test's and a metric's view). */
    synchronized int lanes() {
        return lanes.size();
    }

    private synchronized boolean locked(Ticket ticket, Map<PartitionKey, Long> heads) {
        boolean held = true;
        if (ticket.predicted) {
            for (Map.Entry<PartitionKey, Integer> entry : ticket.counts.entrySet()) {
                Long head = heads.get(entry.getKey());
                if (head == null || head != ticket.firstSeqs.get(entry.getKey()) + entry.getValue() - 1) {
                    held = false;
                }
            }
        }
        long now = System.nanoTime();
        for (PartitionKey p : ticket.counts.keySet()) {
            Lane lane = lanes.get(p);
            if (lane == null) {
                continue;
            }
            Long locked = heads.get(p);
            if (locked != null) {
                if (lane.maxLocked != UNKNOWN && locked - ticket.counts.get(p) > lane.maxLocked) {
                    lane.backOff(now);
                    lane.head = UNKNOWN;
                }
                lane.maxLocked = Math.max(lane.maxLocked, locked);
            }
            if (!held) {
                spoiled(ticket, p, lane, now);
            } else if (lane.head == UNKNOWN && heads.containsKey(p)) {
                // Every ticket behind this one locks the row after it (they are in line) and adds its
                // count: the lane's head is known again. Not while a prediction made before the head was
                // lost is still behind: new predictions could overlap its rows, and an earlier ticket
                // would then wait in PostgreSQL for a later one that waits for it.
                long head = heads.get(p);
                boolean behind = false;
                for (Ticket t : lane.open) {
                    if (behind) {
                        if (t.predicted) {
                            head = UNKNOWN;
                            break;
                        }
                        head += t.counts.get(p);
                    } else if (t == ticket) {
                        behind = true;
                    }
                }
                lane.head = head;
            }
        }
        return held;
    }

    /** A prediction of {@code ticket} turned out wrong in lane {@code p}. */
    private static void spoiled(Ticket ticket, PartitionKey p, Lane lane, long now) {
        if (ticket.predicted && lane.breaks == ticket.breaksAtIssue.get(p)) {
            // Nothing of ours went wrong ahead of this ticket: another instance writes here.
            lane.backOff(now);
        }
        lane.breaks++;
        lane.head = UNKNOWN;
    }

    /** False when it had finished already. */
    private synchronized boolean finish(Ticket ticket, boolean committed, boolean conflict) {
        if (ticket.finished) {
            return false;
        }
        ticket.finished = true;
        long now = System.nanoTime();
        for (PartitionKey p : ticket.counts.keySet()) {
            Lane lane = lanes.get(p);
            if (lane == null) {
                continue;
            }
            if (conflict) {
                spoiled(ticket, p, lane, now);
            } else if (!committed) {
                // Its seqs were given back: the predictions of the tickets behind it are off.
                lane.breaks++;
                lane.head = UNKNOWN;
            } else if (ticket.predicted) {
                lane.backoffNanos = INITIAL_BACKOFF.toNanos();
            }
            lane.open.remove(ticket);
        }
        for (DedupKey key : ticket.keys) {
            heldKeys.remove(key, ticket);
        }
        return true;
    }

    /** One transaction's place in the lanes of its partitions. */
    final class Ticket {
        private final SortedMap<PartitionKey, Integer> counts;
        private final boolean predicted;
        private final Map<PartitionKey, Long> firstSeqs = new HashMap<>();
        private final Map<PartitionKey, Long> breaksAtIssue = new HashMap<>();
        /** The tickets ahead in each lane: their lock is held (or they gave up). Monos, not tickets, so no chain of tickets stays reachable. */
        private final List<Mono<Void>> turns = new ArrayList<>();
        private final List<Mono<Void>> keyHolders = new ArrayList<>();
        private final Sinks.Empty<Void> locked = Sinks.empty();
        private final Sinks.Empty<Void> done = Sinks.empty();
        private List<DedupKey> keys = List.of();
        private final AtomicBoolean lockedFired = new AtomicBoolean();
        /** Guarded by the lanes' monitor. */
        private boolean finished;

        private Ticket(SortedMap<PartitionKey, Integer> counts, boolean predicted) {
            this.counts = counts;
            this.predicted = predicted;
        }

        /** Whether the seqs are predicted: write first, then lock and check. */
        boolean predicted() {
            return predicted;
        }

        /** The predicted first seq of this ticket's events in {@code partition}. */
        long firstSeq(PartitionKey partition) {
            return firstSeqs.get(partition);
        }

        /** Completes once no earlier ticket holds one of this ticket's dedup keys. */
        Mono<Void> keysFree() {
            return keyHolders.isEmpty() ? Mono.empty() : Mono.when(keyHolders);
        }

        /** Completes once every ticket ahead of this one holds its partition locks (or gave up). */
        Mono<Void> turn() {
            return turns.isEmpty() ? Mono.empty() : Mono.when(turns);
        }

        /**
         * The partition rows are locked and have these heads; lets the next ticket send its lock.
         * False when the prediction was wrong: roll back and run pessimistically.
         */
        boolean locked(Map<PartitionKey, Long> heads) {
            boolean held = SeqLanes.this.locked(this, heads);
            // Outside the lanes' monitor: the next ticket's statement goes out from here.
            lockedOnce();
            return held;
        }

        /**
         * The transaction has ended, committed or not; {@code conflict}: it failed on another
         * transaction's rows or locks (a prediction raced someone else's writes). Idempotent.
         */
        void finish(boolean committed, boolean conflict) {
            if (SeqLanes.this.finish(this, committed, conflict)) {
                lockedOnce();
                done.tryEmitEmpty();
            }
        }

        private void lockedOnce() {
            if (lockedFired.compareAndSet(false, true)) {
                locked.tryEmitEmpty();
            }
        }
    }
}
