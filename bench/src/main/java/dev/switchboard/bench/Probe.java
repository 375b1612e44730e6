package dev.switchboard.bench;

/**
 * What the platform did during one measured interval, besides answering: CPU use and
 * delivery-service's group commits (from its {@code switchboard_delivery_commit_batch_size}
 * summary on /actuator/prometheus).
 */
final class Probe {

    record Mark(CpuSampler.Snapshot cpu, double[] commits) {
    }

    /**
     * @param commits         group-commit transactions in the interval (NaN when the metric is not exposed)
     * @param eventsPerCommit mean events per transaction
     * @param predictedShare  share of the interval's transactions that committed with predicted seqs (written before the partition lock)
     */
    record Interval(CpuSampler.Use cpu, double commits, double eventsPerCommit, double predictedShare) {
    }

    private final CpuSampler cpu;
    private final Api api;

    Probe(CpuSampler cpu, Api api) {
        this.cpu = cpu;
        this.api = api;
    }

    Mark mark() {
        return new Mark(cpu.snapshot(), api == null ? null : api.commitBatchSizes());
    }

    static Interval between(Mark a, Mark b) {
        double commits = Double.NaN;
        double perCommit = Double.NaN;
        double predicted = Double.NaN;
        if (a.commits() != null && b.commits() != null) {
            commits = b.commits()[0] - a.commits()[0];
            perCommit = commits <= 0 ? Double.NaN : (b.commits()[1] - a.commits()[1]) / commits;
            predicted = commits <= 0 ? Double.NaN : (b.commits()[2] - a.commits()[2]) / commits;
        }
        return new Interval(CpuSampler.between(a.cpu(), b.cpu()), commits, perCommit, predicted);
    }
}
