package dev.switchboard.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatedReportsTests {

    /** 14:12:59 UTC, given in another zone: the name must not depend on the machine's or the caller's zone. */
    private static final ZonedDateTime STARTED = ZonedDateTime.of(2026, 12, 3, 15, 12, 59, 0, ZoneOffset.ofHours(1));

    @TempDir
    Path docs;

    @Test
    void aReportIsNamedAfterItsBenchmarkAndTheMinuteItsRunStartedInUtc() {
        Path folder = docs.resolve("benchmarks");

        assertThat(DatedReports.fileFor(folder, DatedReports.RUN, STARTED)).isEqualTo(folder.resolve("2026-12-03-run-1412.md"));
        assertThat(DatedReports.fileFor(folder, DatedReports.WS, ZonedDateTime.of(2026, 12, 3, 0, 30, 0, 0, ZoneOffset.ofHours(2))))
                .isEqualTo(folder.resolve("2026-12-02-ws-2230.md"));
        assertThat(DatedReports.shown(STARTED)).isEqualTo("2026-12-03 14:12 UTC");
    }

    @Test
    void aRunAddsANewFileBesideThePageAndLeavesThePageAlone() throws IOException {
        Path page = Files.writeString(docs.resolve("benchmarks.md"), "# Benchmarks\n\nhand-written\n");
        Path folder = docs.resolve("benchmarks");

        Path file = DatedReports.write(folder, DatedReports.RUN, STARTED, "Run of 2026-12-03 14:12 UTC", "bench/run.sh",
                "Command: `bench/run.sh`\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n");

        assertThat(file).isEqualTo(folder.resolve("2026-12-03-run-1412.md"));
        assertThat(Files.readString(file, StandardCharsets.UTF_8)).isEqualTo("""
                # Run of 2026-12-03 14:12 UTC

                A dated record of one `bench/run.sh` run, written by the run itself and kept for history. The current \
                figures, what is measured and how to run it are on [../benchmarks.md](../benchmarks.md).

                Command: `bench/run.sh`

                | a | b |
                |---|---|
                | 1 | 2 |
                """);
        assertThat(Files.readString(page)).isEqualTo("# Benchmarks\n\nhand-written\n");
    }

    @Test
    void aSecondRunOfTheSameMinuteGetsANameOfItsOwn() throws IOException {
        Path first = DatedReports.write(docs, DatedReports.WS, STARTED, "first", "bench/ws.sh", "one");
        Path second = DatedReports.write(docs, DatedReports.WS, STARTED, "second", "bench/ws.sh", "two");
        Path third = DatedReports.write(docs, DatedReports.WS, STARTED, "third", "bench/ws.sh", "three");

        assertThat(first.getFileName()).hasToString("2026-12-03-ws-1412.md");
        assertThat(second.getFileName()).hasToString("2026-12-03-ws-1412-2.md");
        assertThat(third.getFileName()).hasToString("2026-12-03-ws-1412-3.md");
        assertThat(Files.readString(first)).startsWith("# first\n").endsWith("\none\n");
        assertThat(Files.readString(second)).startsWith("# second\n").endsWith("\ntwo\n");
    }

    @Test
    void theVariableNamesAFolderOrPrintOnly() throws IOException {
        assertThat(DatedReports.folder("SWITCHBOARD_BENCH_DOCS", null)).contains(Path.of("docs/benchmarks"));
        assertThat(DatedReports.folder("SWITCHBOARD_BENCH_DOCS", " ")).contains(Path.of("docs/benchmarks"));
        assertThat(DatedReports.folder("SWITCHBOARD_BENCH_DOCS", "-")).isEmpty();
        assertThat(DatedReports.folder("SWITCHBOARD_BENCH_DOCS", docs.toString())).contains(docs);
        assertThat(DatedReports.folder("SWITCHBOARD_BENCH_DOCS", docs.resolve("not-yet").toString())).contains(docs.resolve("not-yet"));
    }

    @Test
    void aMarkdownFileIsRefusedBeforeTheRunStarts() throws IOException {
        Path file = Files.writeString(docs.resolve("notes"), "x");

        assertThatIllegalArgumentException().isThrownBy(() -> DatedReports.folder("SWITCHBOARD_BENCH_DOCS", "docs/benchmarks.md"))
                .withMessageStartingWith("SWITCHBOARD_BENCH_DOCS=docs/benchmarks.md names a file");
        assertThatIllegalArgumentException().isThrownBy(() -> DatedReports.folder("SWITCHBOARD_WSBENCH_DOCS", file.toString()))
                .withMessageStartingWith("SWITCHBOARD_WSBENCH_DOCS=" + file + " names a file");
    }

    @Test
    void thePrintedReportIsTheKeptOneUnderALevelTwoHeading() {
        Report report = new Report();
        report.started = STARTED;
        report.facts.add("Code: commit abc1234");

        assertThat(report.title()).isEqualTo("Run of 2026-12-03 14:12 UTC");
        assertThat(report.markdown()).isEqualTo("## Run of 2026-12-03 14:12 UTC\n\n" + report.body());
        assertThat(report.body()).startsWith("Command: `bench/run.sh`\n\n- Code: commit abc1234\n");
    }
}
