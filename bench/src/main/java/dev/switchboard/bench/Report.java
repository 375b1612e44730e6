package dev.switchboard.bench;

import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The run's Markdown: printed, and kept as a dated file of its own in docs/benchmarks/ ({@link DatedReports}). */
final class Report {

    /** The report's heading without its date: {@code ## Run of <date>} when printed, the file's title when kept. */
    static final String TITLE = "Run of ";

    record Verification(String topic, long acknowledged, long uncertain, long head) {

        String verdict() {
            if (head == acknowledged) {
                return "yes";
            }
            if (head > acknowledged && head <= acknowledged + uncertain) {
                return "no: " + (head - acknowledged) + " committed events whose requests failed or timed out";
            }
            return head < acknowledged ? "**NO: acknowledged events are missing from the log**" : "**NO: unexplained extra events**";
        }
    }

    final List<String> facts = new ArrayList<>();
    final List<RawPostgres.Summary> raw = new ArrayList<>();
    final List<BatchPublish.Point> batches = new ArrayList<>();
    final List<FixedRatePublish.Point> rates = new ArrayList<>();
    final List<Verification> verifications = new ArrayList<>();
    final List<String> notes = new ArrayList<>();
    String command = "bench/run.sh";
    int envelopeBytes;
    /** When the run started. */
    ZonedDateTime started;

    String title() {
        return TITLE + DatedReports.shown(started);
    }

    /** The report as printed: a level-2 heading (the form of the older runs in docs/benchmarks/) and the body. */
    String markdown() {
        return "## " + title() + "\n\n" + body();
    }

    String body() {
        StringBuilder md = new StringBuilder();
        md.append("Command: `").append(command).append("`\n\n");
        for (String fact : facts) {
            md.append("- ").append(fact).append('\n');
        }
        md.append('\n');

        md.append("**(a) Raw PostgreSQL** over JDBC, scratch tables shaped like `delivery.events`/`dedup`/`partitions`, envelopes of ")
                .append(envelopeBytes).append(" bytes (what the server stores for a ").append(Events.EVENT_BYTES)
                .append("-byte event), every statement or transaction committed:\n\n");
        md.append("| method | connections | rows/s (median round) | lowest–highest round | rounds | machine busy |\n|---|---:|---:|---:|---:|---:|\n");
        for (RawPostgres.Summary r : raw) {
            md.append("| ").append(r.method()).append(" | ").append(r.connections()).append(" | ")
                    .append(num(r.rowsPerSecond())).append(" | ").append(num(r.min())).append("–").append(num(r.max())).append(" | ")
                    .append(r.rounds().size()).append(" | ").append(pct(r.machineBusyPercent())).append(" |\n");
        }
        md.append('\n');

        md.append("**(b) Batched publish** through the gateway (`POST /v1/topics/bench.batch/events`, ")
                .append(BatchPublish.BATCH_SIZE).append(" events of ").append(Events.EVENT_BYTES)
                .append(" bytes per request, closed loop, one connection per producer; counted: events acknowledged with 201 in the measured interval):\n\n");
        md.append("| producers | events/s | requests/s | request p50 ms | p99 ms | errors | commits/s | events/commit | predicted | CPU platform | CPU PG backends | CPU bench | CPU others | machine busy |\n");
        md.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (BatchPublish.Point p : batches) {
            Probe.Interval i = p.probe();
            md.append("| ").append(p.producers()).append(" | ").append(num(p.eventsPerSecond())).append(" | ")
                    .append(num(p.requests() / p.seconds())).append(" | ").append(ms(p.latency().millis(50))).append(" | ")
                    .append(ms(p.latency().millis(99))).append(" | ").append(p.errors()).append(" | ")
                    .append(num(i.commits() / p.seconds())).append(" | ").append(dec(i.eventsPerCommit())).append(" | ")
                    .append(pct(100 * i.predictedShare())).append(" | ")
                    .append(cores(i.cpu().platform())).append(" | ").append(cores(i.cpu().backends())).append(" | ")
                    .append(cores(i.cpu().bench())).append(" | ").append(cores(i.cpu().others())).append(" | ")
                    .append(pct(i.cpu().machineBusyPercent())).append(" |\n");
        }
        md.append('\n');

        md.append("**(c) Single-event publish at a fixed rate** (`application/cloudevents+json`, open loop, latency from each request's due time):\n\n");
        md.append("| target/s | achieved/s | sent | ok | errors | p50 ms | p99 ms | p99.9 ms | max ms | max send lag ms | events/commit | CPU platform | CPU PG backends | CPU others | machine busy |\n");
        md.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (FixedRatePublish.Point p : rates) {
            Probe.Interval i = p.probe();
            md.append("| ").append(p.rate()).append(" | ").append(num(p.achievedPerSecond())).append(" | ").append(p.sent())
                    .append(" | ").append(p.ok()).append(" | ").append(p.errors()).append(" | ")
                    .append(ms(p.latency().millis(50))).append(" | ").append(ms(p.latency().millis(99))).append(" | ")
                    .append(ms(p.latency().millis(99.9))).append(" | ").append(ms(p.latency().maxMillis())).append(" | ")
                    .append(ms(p.maxSendLagMillis())).append(" | ").append(dec(i.eventsPerCommit())).append(" | ")
                    .append(cores(i.cpu().platform())).append(" | ").append(cores(i.cpu().backends())).append(" | ")
                    .append(cores(i.cpu().others())).append(" | ").append(pct(i.cpu().machineBusyPercent())).append(" |\n");
        }
        md.append('\n');

        md.append("**Acknowledged means committed**: the log's head (`GET /v1/topics/{t}/events?after=0&limit=1`, subscribe key) after the run:\n\n");
        md.append("| topic | acknowledged | failed/timed-out requests | head | equal |\n|---|---:|---:|---:|---|\n");
        for (Verification v : verifications) {
            md.append("| ").append(v.topic()).append(" | ").append(v.acknowledged()).append(" | ").append(v.uncertain())
                    .append(" | ").append(v.head()).append(" | ").append(v.verdict()).append(" |\n");
        }
        md.append('\n');
        for (String note : notes) {
            md.append(note).append("\n\n");
        }
        return md.toString();
    }

    static String num(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? "–" : String.format(Locale.ROOT, "%,.0f", v);
    }

    static String dec(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.1f", v);
    }

    static String ms(double v) {
        if (Double.isNaN(v)) {
            return "–";
        }
        return v < 10 ? String.format(Locale.ROOT, "%.2f", v) : String.format(Locale.ROOT, "%,.0f", v);
    }

    static String cores(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.2f", v);
    }

    static String pct(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.0f %%", v);
    }
}
