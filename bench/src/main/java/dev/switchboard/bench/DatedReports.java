package dev.switchboard.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Optional;

/**
 * Where a run keeps its report: a new file of its own in {@code docs/benchmarks/}, named after the
 * benchmark and the minute the run started (UTC). A run never edits an existing file, so the page
 * users read, {@code docs/benchmarks.md}, changes only when someone chooses a run as its latest
 * figures and says so there.
 */
final class DatedReports {

    /** Default of {@code SWITCHBOARD_BENCH_DOCS} and {@code SWITCHBOARD_WSBENCH_DOCS}, relative to the repository root. */
    static final String DEFAULT_FOLDER = "docs/benchmarks";
    /** The value of those variables that prints the report and writes nothing. */
    static final String PRINT_ONLY = "-";
    /** The file name's benchmark part for {@code bench/run.sh}. */
    static final String RUN = "run";
    /** The file name's benchmark part for {@code bench/ws.sh}. */
    static final String WS = "ws";
    static final String REMINDER = "docs/benchmarks.md is not changed: if this run should be its latest figures, "
            + "update the page's \"Latest figures\" table from the new file by hand";

    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyy-MM-dd", Locale.ROOT);
    private static final DateTimeFormatter MINUTE = DateTimeFormatter.ofPattern("HHmm", Locale.ROOT);
    private static final DateTimeFormatter SHOWN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'", Locale.ROOT);

    private DatedReports() {
    }

    /**
     * The folder a variable's value names, or empty for {@value #PRINT_ONLY}; a blank value means
     * {@value #DEFAULT_FOLDER}. Checked when a run starts, not after twenty minutes of it: a Markdown
     * file (what the variables named before, when runs appended to docs/benchmarks.md) is refused.
     */
    static Optional<Path> folder(String variable, String value) {
        String v = value == null || value.isBlank() ? DEFAULT_FOLDER : value.trim();
        if (v.equals(PRINT_ONLY)) {
            return Optional.empty();
        }
        Path folder = Path.of(v);
        if (v.endsWith(".md") || Files.isRegularFile(folder)) {
            throw new IllegalArgumentException(variable + "=" + v + " names a file: it is the folder a run writes its report to as a "
                    + "new file (default " + DEFAULT_FOLDER + "), or \"" + PRINT_ONLY + "\" to only print");
        }
        return Optional.of(folder);
    }

    /** How a report's date is shown in its heading, e.g. {@code 2026-12-02 03:10 UTC}. */
    static String shown(ZonedDateTime started) {
        return started.withZoneSameInstant(ZoneOffset.UTC).format(SHOWN);
    }

    /**
     * {@code <folder>/<YYYY-MM-DD>-<benchmark>-<HHMM>.md} for the run's start in UTC, or with
     * {@code -2}, {@code -3}, … before {@code .md} when a run of the same minute already has that name.
     */
    static Path fileFor(Path folder, String benchmark, ZonedDateTime started) {
        ZonedDateTime utc = started.withZoneSameInstant(ZoneOffset.UTC);
        String stem = utc.format(DAY) + "-" + benchmark + "-" + utc.format(MINUTE);
        Path file = folder.resolve(stem + ".md");
        for (int n = 2; Files.exists(file); n++) {
            file = folder.resolve(stem + "-" + n + ".md");
        }
        return file;
    }

    /**
     * Writes the report as a new file (creating the folder if needed, never replacing a file):
     * {@code # <title>}, a line on what the file is and where the current figures are, then
     * {@code body} as it was printed under its heading. Returns the file.
     */
    static Path write(Path folder, String benchmark, ZonedDateTime started, String title, String script, String body) throws IOException {
        Files.createDirectories(folder);
        Path file = fileFor(folder, benchmark, started);
        String text = "# " + title + "\n\n"
                + "A dated record of one `" + script + "` run, written by the run itself and kept for history. The current "
                + "figures, what is measured and how to run it are on [../benchmarks.md](../benchmarks.md).\n\n"
                + body.strip() + "\n";
        Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        return file;
    }
}
