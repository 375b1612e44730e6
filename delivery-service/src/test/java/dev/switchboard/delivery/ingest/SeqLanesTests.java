package dev.switchboard.delivery.ingest;

import dev.switchboard.delivery.ingest.PendingEvent.DedupKey;
import dev.switchboard.delivery.ingest.PendingEvent.PartitionKey;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/** The lanes' bookkeeping: who may predict, from which seq, whose turn it is, and when to stop predicting. */
class SeqLanesTests {

    private static final PartitionKey P = new PartitionKey("acme", "orders", 0);

    private final SeqLanes lanes = new SeqLanes();

    private static TreeMap<PartitionKey, Integer> counts(int n) {
        TreeMap<PartitionKey, Integer> counts = new TreeMap<>();
        counts.put(P, n);
        return counts;
    }

    @Test
    void ticketsBehindALockedOneWithKnownCountsPredictTheSeqsThatFollow() {
        SeqLanes.Ticket first = lanes.issue(counts(10), List.of(), true);
        assertThat(first.predicted()).as("nothing in flight ahead: lock first").isFalse();
        SeqLanes.Ticket second = lanes.issue(counts(5), List.of(), true);
        assertThat(second.predicted()).as("the head is not known before a lock").isFalse();
        StepVerifier.create(second.turn()).expectSubscription().expectNoEvent(Duration.ofMillis(50)).thenCancel().verify();

        assertThat(first.locked(Map.of(P, 110L))).isTrue();
        StepVerifier.create(second.turn()).verifyComplete();

        // 110 after the first; the second (in flight, lock-first) adds 5.
        SeqLanes.Ticket third = lanes.issue(counts(3), List.of(), true);
        assertThat(third.predicted()).isTrue();
        assertThat(third.firstSeq(P)).isEqualTo(116);
        SeqLanes.Ticket fourth = lanes.issue(counts(2), List.of(), true);
        assertThat(fourth.firstSeq(P)).isEqualTo(119);

        first.finish(true, false);
        assertThat(second.locked(Map.of(P, 115L))).isTrue();
        second.finish(true, false);
        assertThat(third.locked(Map.of(P, 118L))).as("the prediction held").isTrue();
        assertThat(fourth.locked(Map.of(P, 120L))).isTrue();
    }

    @Test
    void aWrongPredictionOrAFailureAheadStopsPredictionsUntilAHeadIsSeenAgain() {
        SeqLanes.Ticket a = lanes.issue(counts(10), List.of(), true);
        SeqLanes.Ticket b = lanes.issue(counts(10), List.of(), true);
        a.locked(Map.of(P, 10L));
        SeqLanes.Ticket c = lanes.issue(counts(10), List.of(), true);
        assertThat(c.firstSeq(P)).isEqualTo(21);
        // b fails before it locks: its seqs are never taken, so c's prediction is off by ten.
        b.finish(false, false);
        SeqLanes.Ticket d = lanes.issue(counts(1), List.of(), true);
        assertThat(d.predicted()).isFalse();
        a.finish(true, false);
        assertThat(c.locked(Map.of(P, 20L))).isFalse();
        c.finish(false, false);
        // d locks first-hand and sees the head: predictions resume behind it, right away (no back-off:
        // everything that went wrong was this instance's own).
        SeqLanes.Ticket e = lanes.issue(counts(1), List.of(), true);
        assertThat(d.locked(Map.of(P, 11L))).isTrue();
        SeqLanes.Ticket f = lanes.issue(counts(4), List.of(), true);
        assertThat(f.predicted()).isTrue();
        assertThat(f.firstSeq(P)).isEqualTo(13);
        assertThat(e.predicted()).isFalse();
    }

    @Test
    void aHeadAboveAnythingThisInstanceLockedAtMeansAnotherWriterAndStopsPredictions() {
        SeqLanes.Ticket a = lanes.issue(counts(10), List.of(), true);
        SeqLanes.Ticket b = lanes.issue(counts(10), List.of(), true);
        a.locked(Map.of(P, 10L));
        a.finish(true, false);
        // Someone else committed 7 events between a and b.
        assertThat(b.locked(Map.of(P, 27L))).isTrue();
        SeqLanes.Ticket c = lanes.issue(counts(1), List.of(), true);
        assertThat(c.predicted()).as("backing off").isFalse();
    }

    @Test
    void aTicketWaitsForEarlierTicketsHoldingOneOfItsDedupKeys() {
        DedupKey k = new DedupKey("acme", "orders", "id-1");
        SeqLanes.Ticket a = lanes.issue(counts(1), List.of(k), true);
        SeqLanes.Ticket b = lanes.issue(counts(1), List.of(new DedupKey("acme", "orders", "other")), true);
        SeqLanes.Ticket c = lanes.issue(counts(1), List.of(k), true);
        StepVerifier.create(b.keysFree()).verifyComplete();
        StepVerifier.create(c.keysFree()).expectSubscription().expectNoEvent(Duration.ofMillis(50)).thenCancel().verify();
        a.finish(true, false);
        StepVerifier.create(c.keysFree()).verifyComplete();
    }
}
