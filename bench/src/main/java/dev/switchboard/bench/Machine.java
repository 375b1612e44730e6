package dev.switchboard.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.Optional;

/** Facts about this (Linux) machine, read from /proc; "unknown" elsewhere. */
final class Machine {

    private Machine() {
    }

    static int cores() {
        return Runtime.getRuntime().availableProcessors();
    }

    static String memory() {
        return line(Path.of("/proc/meminfo"), "MemTotal:")
                .map(l -> l.replaceAll("\\D+", ""))
                .map(kb -> String.format("%.1f GiB", Long.parseLong(kb) / 1024.0 / 1024.0))
                .orElse("unknown");
    }

    static String cpuModel() {
        return line(Path.of("/proc/cpuinfo"), "model name").map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("unknown");
    }

    /** The 1, 5 and 15 minute load averages, as {@code uptime} prints them. */
    static String loadAverage() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return parts[0] + ", " + parts[1] + ", " + parts[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }


    /** CPU time a process has used so far (user + system), or empty when it is gone or unreadable. */
    static Optional<Duration> cpuTime(long pid) {
        return ProcessHandle.of(pid).flatMap(p -> p.info().totalCpuDuration());
    }

    /** Busy and total jiffies of the whole machine from /proc/stat's first line. */
    static long[] machineJiffies() {
        try {
            String first = Files.readAllLines(Path.of("/proc/stat")).get(0);
            String[] f = first.trim().split("\\s+");
            long total = 0;
            for (int i = 1; i < f.length && i <= 8; i++) {
                total += Long.parseLong(f[i]);
            }
            long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]); // idle + iowait
            return new long[]{total - idle, total};
        } catch (IOException | RuntimeException e) {
            return new long[]{0, 0};
        }
    }

    /** The C2 compiler threads' share of a JVM's CPU between two {@link #threadGroupCpuSeconds} readings (0 when it used none). */
    static double compilerShare(Map<String, Double> before, Map<String, Double> after) {
        double all = 0;
        double c2 = 0;
        for (Map.Entry<String, Double> e : after.entrySet()) {
            double d = e.getValue() - before.getOrDefault(e.getKey(), 0.0);
            all += d;
            if (e.getKey().startsWith("C2 Compiler")) {
                c2 += d;
            }
        }
        return all <= 0 ? 0 : c2 / all;
    }

    /**
     * CPU seconds so far of a process's threads, grouped by thread name without its number
     * ({@code webflux-http-epoll-3} → {@code webflux-http-epoll}), from /proc/PID/task/TID/stat
     * (utime + stime in clock ticks, 100 per second on Linux x86 and arm64).
     */
    static Map<String, Double> threadGroupCpuSeconds(long pid) {
        Map<String, Double> groups = new TreeMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    // The name sits in parentheses and may hold spaces; the fields after it are fixed.
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    double seconds = (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
                    groups.merge(name.replaceAll("[-#]?\\d+$", "").trim(), seconds, Double::sum);
                } catch (IOException | RuntimeException e) {
                    // the thread ended meanwhile
                }
            }
        } catch (IOException e) {
            // not Linux, or the process is gone
        }
        return groups;
    }

    private static Optional<String> line(Path file, String prefix) {
        try {
            List<String> lines = Files.readAllLines(file);
            return lines.stream().filter(l -> l.startsWith(prefix)).findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
