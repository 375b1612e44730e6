package dev.switchboard.delivery.retention;

import org.junit.jupiter.api.Test;

import static dev.switchboard.delivery.retention.RetentionJob.DEDUP_MIN_PAGES_PER_SWEEP;
import static dev.switchboard.delivery.retention.RetentionJob.dedupPagesToWalk;
import static org.assertj.core.api.Assertions.assertThat;

/** How much of the dedup table a sweep reads: four rows per row written since the last sweep. */
class DedupPaceTests {

    @Test
    void aBusyTableIsReadFourRowsPerRowWritten() {
        // 10 million keys on 100,000 pages (100 a page); 1 million written since the last sweep
        assertThat(dedupPagesToWalk(1_000_000, 10_000_000, 100_000)).isEqualTo(40_000);
    }

    @Test
    void aQuietSweepStillReadsTheMinimumAndASmallTableIsReadWhole() {
        assertThat(dedupPagesToWalk(0, 10_000_000, 100_000)).isEqualTo(DEDUP_MIN_PAGES_PER_SWEEP);
        assertThat(dedupPagesToWalk(50, 5_000, 60)).isEqualTo(60);
        assertThat(dedupPagesToWalk(0, 0, 0)).isEqualTo(1);
    }

    @Test
    void aSweepNeverReadsMoreThanTheWholeTable() {
        assertThat(dedupPagesToWalk(100_000_000, 10_000_000, 100_000)).isEqualTo(100_000);
    }

    @Test
    void statisticsThatLagTheTableAreReadAsOneRowAPage() {
        // n_live_tup below the page count (stale statistics): never fewer than one row a page
        assertThat(dedupPagesToWalk(10_000, 10, 100_000)).isEqualTo(40_000);
    }
}
