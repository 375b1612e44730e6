package dev.switchboard.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.ToDoubleFunction;

/** The Markdown of {@code bench/ws.sh}: printed, and kept as a dated file of its own in docs/benchmarks/ ({@link DatedReports}). */
final class WsReport {

    /** The report's heading without its date: {@code ## WebSocket run of <date>} when printed, the file's title when kept. */
    static final String TITLE = "WebSocket run of ";
    static final String SWITCHBOARD = "switchboard";

    /**
     * @param hops   Switchboard only: mean milliseconds of each hop of the point's publishes by the platform's own timers (else empty)
     * @param stages Switchboard only: stage of the live path → {p50, p99} ms over the point (else empty)
     */
    record Result(int round, String system, WsLoad.Point point, Map<String, Double> hops, Map<String, double[]> stages) {

        double hop(String name) {
            return hops.getOrDefault(name, Double.NaN);
        }
    }

    record Idle(String system, int open, int failed, OptionalLong heapBefore, OptionalLong heapAfter, long rssBefore, long rssAfter,
                String heapMethod, String firstError) {

        double heapPerConnection() {
            return heapBefore.isPresent() && heapAfter.isPresent() && open > 0
                    ? (double) (heapAfter.getAsLong() - heapBefore.getAsLong()) / open : Double.NaN;
        }

        double rssPerConnection() {
            return rssBefore > 0 && rssAfter > 0 && open > 0 ? (double) (rssAfter - rssBefore) / open : Double.NaN;
        }
    }

    final Map<String, String> systems = new LinkedHashMap<>();
    final Map<String, String> cpuCounted = new LinkedHashMap<>();
    final List<Result> results = new ArrayList<>();
    final List<Idle> idle = new ArrayList<>();
    final List<String> facts = new ArrayList<>();
    final List<String> notes = new ArrayList<>();
    final List<Integer> rates;
    final int subscribers;
    final double minShare;
    final double maxP99;
    String command = "bench/ws.sh";
    String switchboardPublishing = "–";
    /** How long Switchboard was warmed up before round 1, when it was (null: only the fixed warm-up). */
    String switchboardWarmup;
    /** When the run started. */
    ZonedDateTime started;

    WsReport(List<Integer> rates, int subscribers, double minShare, double maxP99) {
        this.rates = rates;
        this.subscribers = subscribers;
        this.minShare = minShare;
        this.maxP99 = maxP99;
    }

    void add(int round, String system, WsLoad.Point p, Map<String, Double> hops, Map<String, double[]> stages) {
        results.add(new Result(round, system, p, hops, stages));
    }

    /** The live path's stages in the order an event meets them, with what each one times. */
    static final List<String> STAGES = List.of("gateway.frame", "gateway.publish", "delivery.queue", "delivery.commit", "delivery.notify",
            "delivery.handoff", "delivery.read", "gateway.upstream", "gateway.write");
    private static final Map<String, String> STAGE_MEANING = Map.of(
            "gateway.frame", "gateway: a `publish` frame read → forwarded to delivery (WebSocket publishers only)",
            "gateway.publish", "gateway: publish forwarded to delivery → its answer (committed)",
            "delivery.queue", "delivery: accepted → taken into a group commit",
            "delivery.commit", "delivery: the group's transaction → committed",
            "delivery.notify", "delivery: committed → its NOTIFY heard on the LISTEN connection",
            "delivery.handoff", "delivery: committed → the stream took the events from the commit (no read)",
            "delivery.read", "delivery: NOTIFY heard → the stream has read the new rows (when it did not take them from the commit)",
            "gateway.upstream", "gateway: accepted by delivery → the line arrives at the gateway (covers the four above and the stream write)",
            "gateway.write", "gateway: the line arrives → written to a socket (each of the subscribers)");

    /** Median over the rounds of one stage's p50 (index 0) or p99 (1) at a rate. */
    private double stage(String stage, int rate, int index) {
        return median(results.stream().filter(r -> r.point().rate() == rate && r.stages().containsKey(stage))
                .mapToDouble(r -> r.stages().get(stage)[index]).toArray());
    }

    boolean passes(WsLoad.Point p) {
        return p.sentPerSecond() >= minShare * p.rate()
                && p.deliveriesPerSecond() >= minShare * p.rate() * subscribers
                && p.completeness() >= minShare
                && p.millis(99) <= maxP99;
    }

    private List<WsLoad.Point> points(int round, String system) {
        return results.stream().filter(r -> r.round() == round && r.system().equals(system)).map(Result::point)
                .sorted(Comparator.comparingInt(WsLoad.Point::rate)).toList();
    }

    private int rounds() {
        return results.stream().mapToInt(Result::round).max().orElse(0);
    }

    /** The highest rate that passes with every lower rate passing too; 0 when even the lowest fails. */
    int knee(int round, String system) {
        int knee = 0;
        for (WsLoad.Point p : points(round, system)) {
            if (!passes(p)) {
                break;
            }
            knee = p.rate();
        }
        return knee;
    }

    /** The most deliveries per second received in any point of the round: the saturation figure (a floor when every rate passed). */
    double saturation(int round, String system) {
        return points(round, system).stream().mapToDouble(WsLoad.Point::deliveriesPerSecond).max().orElse(Double.NaN);
    }

    private double median(String system, int rate, ToDoubleFunction<WsLoad.Point> f) {
        double[] v = results.stream().filter(r -> r.system().equals(system) && r.point().rate() == rate)
                .mapToDouble(r -> f.applyAsDouble(r.point())).filter(d -> !Double.isNaN(d)).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static double median(double[] values) {
        double[] v = java.util.Arrays.stream(values).filter(d -> !Double.isNaN(d)).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

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
        md.append("- Load: ").append(subscribers).append(" subscribers on one topic and one publisher socket, ")
                .append(WsWire.PAYLOAD_BYTES).append("-byte JSON payloads carrying their due time. The peers take the publisher's "
                        + "messages on a WebSocket of their own; Switchboard's publisher is ").append(switchboardPublishing)
                .append("; every event persisted; Switchboard subscribers `connect` with an HS256 client JWT and `subscribe` (new events only)\n");
        md.append("- Server CPU counts: ");
        cpuCounted.forEach((k, v) -> md.append(systems.get(k)).append(": ").append(v).append("; "));
        md.setLength(md.length() - 2);
        md.append(". \"client\" is this load generator's JVM (it shares the 2 cores)\n");
        md.append(String.format(Locale.ROOT, "- Knee rule: the highest rate at which it and every lower rate had sent ≥ %.0f %% of the "
                + "target publishes, received ≥ %.0f %% of the target deliveries/s in the window, ≥ %.0f %% of the window's deliveries by the "
                + "deadline, and p99 ≤ %.0f ms. Saturation = the most deliveries/s received at any rate (\"≥\" when even the top rate passed). "
                + "Latency = receive time − the message's due time; a delivery that never came counts with its age at the deadline\n\n",
                100 * minShare, 100 * minShare, 100 * minShare, maxP99));

        int rounds = rounds();
        md.append("**Per rate** (median of ").append(rounds).append(" round(s)):\n\n");
        md.append("| system | publish/s | sent/s | deliveries/s (target) | by deadline | p50 ms | p99 ms | p99.9 ms | server cores | CPU-s per M deliveries | client cores | disconnects |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (String system : systems.keySet()) {
            for (int rate : rates) {
                md.append("| ").append(systems.get(system)).append(" | ").append(rate).append(" | ")
                        .append(num(median(system, rate, WsLoad.Point::sentPerSecond))).append(" | ")
                        .append(num(median(system, rate, WsLoad.Point::deliveriesPerSecond))).append(" (")
                        .append(num((double) rate * subscribers)).append(") | ")
                        .append(pct(100 * median(system, rate, WsLoad.Point::completeness))).append(" | ")
                        .append(ms(median(system, rate, p -> p.millis(50)))).append(" | ")
                        .append(ms(median(system, rate, p -> p.millis(99)))).append(" | ")
                        .append(ms(median(system, rate, p -> p.millis(99.9)))).append(" | ")
                        .append(dec2(median(system, rate, p -> p.serverCpuSeconds() / p.seconds()))).append(" | ")
                        .append(dec(median(system, rate, WsLoad.Point::cpuSecondsPerMillion))).append(" | ")
                        .append(dec2(median(system, rate, p -> p.cpu().bench()))).append(" | ")
                        .append(num(median(system, rate, WsLoad.Point::disconnects))).append(" |\n");
            }
        }
        md.append('\n');

        boolean hasSb = systems.containsKey(SWITCHBOARD);
        List<String> peers = systems.keySet().stream().filter(k -> !k.equals(SWITCHBOARD)).toList();
        md.append("**Knee and saturation per round** (knee publish/s · saturation deliveries/s):\n\n| round |");
        systems.values().forEach(n -> md.append(' ').append(n).append(" |"));
        if (hasSb && !peers.isEmpty()) {
            md.append(" Switchboard ÷ best peer (saturation) |");
        }
        md.append("\n|---|");
        systems.keySet().forEach(k -> md.append("---|"));
        if (hasSb && !peers.isEmpty()) {
            md.append("---:|");
        }
        md.append('\n');
        int top = rates.stream().mapToInt(Integer::intValue).max().orElse(0);
        double[] ratios = new double[rounds];
        for (int round = 1; round <= rounds; round++) {
            md.append("| ").append(round).append(" |");
            for (String system : systems.keySet()) {
                int knee = knee(round, system);
                md.append(' ').append(knee == 0 ? "none" : knee).append(" · ").append(knee == top ? "≥ " : "")
                        .append(num(saturation(round, system))).append(" |");
            }
            if (hasSb && !peers.isEmpty()) {
                int r = round;
                double best = peers.stream().mapToDouble(p -> saturation(r, p)).max().orElse(Double.NaN);
                ratios[round - 1] = saturation(round, SWITCHBOARD) / best;
                md.append(' ').append(dec2(ratios[round - 1])).append(" |");
            }
            md.append('\n');
        }
        md.append('\n');

        if (hasSb) {
            md.append("**Targets** (issue #4):\n\n");
            if (!peers.isEmpty()) {
                double ratio = median(ratios);
                md.append(String.format(Locale.ROOT, "- Saturation deliveries/s ≥ 1.0× the best peer of the same round: median ratio **%.2f** — %s%s%n",
                        ratio, ratio >= 1.0 ? "**met**" : "**not met**",
                        allTopPass() ? " (every system passed the top rate, so saturation was not reached by all: the ratio compares floors)" : ""));
            }
            double sat = median(java.util.stream.IntStream.rangeClosed(1, rounds).mapToDouble(r -> saturation(r, SWITCHBOARD)).toArray());
            double halfRate = sat / subscribers / 2;
            int at = rates.stream().filter(r -> r <= halfRate + 1e-9).mapToInt(Integer::intValue).max().orElse(0);
            if (at > 0) {
                double p99 = median(SWITCHBOARD, at, p -> p.millis(99));
                md.append(String.format(Locale.ROOT, "- p99 ≤ 50 ms at half of saturation (%s deliveries/s ÷ 2 ≈ %.0f publish/s; nearest swept rate "
                        + "not above it: %d/s): p99 **%s ms** — %s%n", num(sat), halfRate, at, ms(p99), p99 <= 50 ? "**met**" : "**not met**"));
            } else {
                md.append(String.format(Locale.ROOT, "- p99 ≤ 50 ms at half of saturation (%s deliveries/s ÷ 2 ≈ %.0f publish/s): no swept rate that "
                        + "low — **not measured**%n", num(sat), halfRate));
            }
            idle.stream().filter(i -> i.system().equals(SWITCHBOARD)).findFirst().ifPresent(i -> md.append(String.format(Locale.ROOT,
                    "- ≤ 20 KiB heap per idle connection: **%s** — %s%n", bytes(i.heapPerConnection()),
                    i.heapPerConnection() <= 20 * 1024 ? "**met**" : "**not met**")));
            md.append('\n');
        }

        if (!idle.isEmpty()) {
            md.append("**Idle connections** (opened, ").append(hasSb ? "Switchboard's connected and subscribed, " : "")
                    .append("NATS' connected and subscribed; 2 s later measured against before):\n\n");
            md.append("| system | open | failed | heap per connection | RSS per connection | heap measured as |\n|---|---:|---:|---:|---:|---|\n");
            for (Idle i : idle) {
                md.append("| ").append(systems.get(i.system())).append(" | ").append(i.open()).append(" | ").append(i.failed()).append(" | ")
                        .append(bytes(i.heapPerConnection())).append(" | ").append(bytes(i.rssPerConnection())).append(" | ")
                        .append(i.heapMethod()).append(" |\n");
            }
            md.append('\n');
        }

        if (results.stream().anyMatch(r -> !r.stages().isEmpty())) {
            md.append("**Where Switchboard's time goes** (p50 / p99 ms per stage, medians over the rounds; the platform's "
                    + "`switchboard.live.stage` histograms scraped before and after each window, interpolated inside fixed buckets):\n\n");
            md.append("| stage | what it times |");
            rates.forEach(rate -> md.append(' ').append(rate).append("/s |"));
            md.append("\n|---|---|");
            rates.forEach(rate -> md.append("---:|"));
            md.append('\n');
            for (String stage : STAGES) {
                md.append("| `").append(stage).append("` | ").append(STAGE_MEANING.get(stage)).append(" |");
                rates.forEach(rate -> md.append(' ').append(ms(stage(stage, rate, 0))).append(" / ").append(ms(stage(stage, rate, 1))).append(" |"));
                md.append('\n');
            }
            md.append("| client send | the load client: due time → its `publish` frame flushed (WebSocket publishers only) |");
            rates.forEach(rate -> md.append(' ').append(ms(median("switchboard", rate, p -> sent(p, 50)))).append(" / ")
                    .append(ms(median("switchboard", rate, p -> sent(p, 99)))).append(" |"));
            md.append("\n| end to end | the load client: due time → received |");
            rates.forEach(rate -> md.append(' ').append(ms(median("switchboard", rate, p -> p.millis(50)))).append(" / ")
                    .append(ms(median("switchboard", rate, p -> p.millis(99)))).append(" |"));
            md.append("\n\n");
        }
        md.append("<details><summary>Every point of every round</summary>\n\n");
        md.append("For Switchboard also: publish ack = due time → the publish's 201 (committed); ack→delivery = that reply → each "
                + "delivery of the message (0 when the delivery came first), i.e. the fan-out part; gateway POST / delivery POST = mean server time of the publish "
                + "request on the gateway and of its forward to delivery-service (their `http.server.requests` timers); delivery "
                + "arrival→commit = mean of delivery-service's `switchboard.delivery.publish` timer; all over the point. \"send lag max\" = how late the publisher's "
                + "clock thread ran behind its schedule (the latency counts from the schedule anyway).\n\n");
        md.append("| round | system | publish/s | sent/s | deliveries/s | by deadline | missing | p50 ms | p99 ms | p99.9 ms | max ms | send lag max ms | publish ack p50 ms | ack p99 ms | ack→delivery p50 ms | ack→delivery p99 ms | gateway POST mean ms | delivery POST mean ms | delivery arrival→commit mean ms | server cores | client cores | machine busy | disconnects | errors |\n");
        md.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Result r : results) {
            WsLoad.Point p = r.point();
            md.append("| ").append(r.round()).append(" | ").append(systems.get(r.system())).append(" | ").append(p.rate()).append(" | ")
                    .append(num(p.sentPerSecond())).append(" | ").append(num(p.deliveriesPerSecond())).append(" | ")
                    .append(pct(100 * p.completeness())).append(" | ").append(p.missing()).append(" | ")
                    .append(ms(p.millis(50))).append(" | ").append(ms(p.millis(99))).append(" | ").append(ms(p.millis(99.9))).append(" | ")
                    .append(ms(p.latency().getTotalCount() == 0 ? Double.NaN : p.latency().getMaxValue() / 1000.0)).append(" | ")
                    .append(ms(p.maxSendLagMillis())).append(" | ").append(ms(ack(p, 50))).append(" | ").append(ms(ack(p, 99))).append(" | ")
                    .append(ms(afterAck(p, 50))).append(" | ").append(ms(afterAck(p, 99))).append(" | ")
                    .append(ms(r.hop("gateway POST"))).append(" | ").append(ms(r.hop("delivery POST"))).append(" | ")
                    .append(ms(r.hop("delivery arrival→commit"))).append(" | ")
                    .append(dec2(p.serverCpuSeconds() / p.seconds())).append(" | ")
                    .append(dec2(p.cpu().bench())).append(" | ").append(pct(p.cpu().machineBusyPercent())).append(" | ")
                    .append(p.disconnects()).append(" | ").append(p.errors()).append(" |\n");
        }
        md.append("\n</details>\n\n");
        List<String> errors = results.stream().filter(r -> r.point().firstError() != null)
                .map(r -> systems.get(r.system()) + ": " + r.point().firstError()).distinct().limit(5).toList();
        for (String e : errors) {
            md.append("- first error seen: `").append(e.replace('`', '\'').replace('\n', ' ')).append("`\n");
        }
        if (!errors.isEmpty()) {
            md.append('\n');
        }
        for (String note : notes) {
            md.append(note).append("\n\n");
        }
        return md.toString();
    }

    private static double sent(WsLoad.Point p, double percentile) {
        return p.sends().getTotalCount() == 0 ? Double.NaN : p.sends().getValueAtPercentile(percentile) / 1000.0;
    }

    private static double ack(WsLoad.Point p, double percentile) {
        return p.acks().getTotalCount() == 0 ? Double.NaN : p.acks().getValueAtPercentile(percentile) / 1000.0;
    }

    private static double afterAck(WsLoad.Point p, double percentile) {
        return p.afterAck().getTotalCount() == 0 ? Double.NaN : p.afterAck().getValueAtPercentile(percentile) / 1000.0;
    }

    private boolean allTopPass() {
        int top = rates.stream().mapToInt(Integer::intValue).max().orElse(0);
        for (int round = 1; round <= rounds(); round++) {
            for (String s : systems.keySet()) {
                if (knee(round, s) != top) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Prints the report and, unless {@code folder} is empty (print only), keeps it as a new file there. */
    void writeOut(Optional<Path> folder) throws IOException {
        System.out.println();
        System.out.println(markdown());
        if (folder.isPresent()) {
            Path file = DatedReports.write(folder.get(), DatedReports.WS, started, title(), "bench/ws.sh", body());
            WsBenchMain.say("report written to " + file);
            WsBenchMain.say(DatedReports.REMINDER);
        }
    }

    static String num(double v) {
        return Report.num(v);
    }

    static String ms(double v) {
        return Report.ms(v);
    }

    static String dec(double v) {
        return Report.dec(v);
    }

    static String dec2(double v) {
        return Report.cores(v);
    }

    static String pct(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.1f %%", v);
    }

    static String bytes(double v) {
        if (Double.isNaN(v)) {
            return "–";
        }
        return Math.abs(v) >= 1024 ? String.format(Locale.ROOT, "%.1f KiB", v / 1024) : String.format(Locale.ROOT, "%.0f B", v);
    }
}
