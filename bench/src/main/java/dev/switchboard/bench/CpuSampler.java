package dev.switchboard.bench;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * Where the CPU went during one measured interval: the platform's JVM, this load generator, the
 * PostgreSQL backends serving the benchmark's database (found through pg_stat_activity), and the
 * whole machine (which other work shares). PostgreSQL's WAL writer and checkpointer serve every
 * database and are not counted in "backends".
 */
final class CpuSampler {

    record Snapshot(long nanos, long platformCpu, long benchCpu, Map<Long, Long> backendCpu, long[] machine) {
    }

    /** Cores' worth of CPU used over the interval (1.0 = one core busy the whole time). */
    record Use(double platform, double bench, double backends, double machineBusyPercent) {

        static final Use NONE = new Use(Double.NaN, Double.NaN, Double.NaN, Double.NaN);

        /**
         * What the rest of the machine used: other work, and PostgreSQL's shared processes (WAL
         * writer, checkpointer). Near zero means the run had the machine to itself.
         */
        double others() {
            double total = machineBusyPercent / 100 * Machine.cores();
            return Math.max(0, total - (Double.isNaN(platform) ? 0 : platform) - (Double.isNaN(backends) ? 0 : backends)
                    - (Double.isNaN(bench) ? 0 : bench));
        }
    }

    private final long platformPid;
    private final Connection monitor;

    CpuSampler(long platformPid, Connection monitor) {
        this.platformPid = platformPid;
        this.monitor = monitor;
    }

    Snapshot snapshot() {
        Map<Long, Long> backends = new HashMap<>();
        if (monitor != null) {
            try (Statement s = monitor.createStatement();
                 ResultSet rs = s.executeQuery("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")) {
                while (rs.next()) {
                    long pid = rs.getLong(1);
                    Machine.cpuTime(pid).ifPresent(d -> backends.put(pid, d.toNanos()));
                }
            } catch (SQLException e) {
                // no backend figures then; the other columns still stand
            }
        }
        long platform = platformPid <= 0 ? -1 : Machine.cpuTime(platformPid).map(Duration::toNanos).orElse(-1L);
        long bench = Machine.cpuTime(ProcessHandle.current().pid()).map(Duration::toNanos).orElse(-1L);
        return new Snapshot(System.nanoTime(), platform, bench, backends, Machine.machineJiffies());
    }

    static Use between(Snapshot a, Snapshot b) {
        double wall = b.nanos() - a.nanos();
        if (wall <= 0) {
            return Use.NONE;
        }
        double platform = a.platformCpu() < 0 || b.platformCpu() < 0 ? Double.NaN : (b.platformCpu() - a.platformCpu()) / wall;
        double bench = a.benchCpu() < 0 || b.benchCpu() < 0 ? Double.NaN : (b.benchCpu() - a.benchCpu()) / wall;
        long backendNanos = 0;
        for (Map.Entry<Long, Long> e : b.backendCpu().entrySet()) {
            backendNanos += e.getValue() - a.backendCpu().getOrDefault(e.getKey(), 0L);
        }
        double backends = b.backendCpu().isEmpty() ? Double.NaN : backendNanos / wall;
        long busy = b.machine()[0] - a.machine()[0];
        long total = b.machine()[1] - a.machine()[1];
        double machine = total <= 0 ? Double.NaN : 100.0 * busy / total;
        return new Use(platform, bench, backends, machine);
    }
}
