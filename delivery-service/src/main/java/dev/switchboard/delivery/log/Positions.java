package dev.switchboard.delivery.log;

import dev.switchboard.platform.problem.SwitchboardException;

import java.util.Map;
import java.util.TreeMap;

/**
 * Resume points of a multi-partition topic as they travel in query strings and SSE ids: a plain
 * seq ({@code 41}, every partition after 41 — the only form a single-partition topic needs) or
 * a vector {@code 0:41,1:7}. Partitions a vector leaves out start from the beginning of retention.
 */
public final class Positions {

    private Positions() {
    }

    /** @throws SwitchboardException invalid_request for anything malformed or out of range */
    public static Map<Integer, Long> parse(String text, int partitions) {
        Map<Integer, Long> after = new TreeMap<>();
        String value = text.trim();
        try {
            if (!value.contains(":")) {
                long seq = Long.parseLong(value);
                requireSeq(seq);
                for (int p = 0; p < partitions; p++) {
                    after.put(p, seq);
                }
                return after;
            }
            for (int p = 0; p < partitions; p++) {
                after.put(p, 0L);
            }
            for (String part : value.split(",")) {
                String[] kv = part.split(":");
                if (kv.length != 2) {
                    throw SwitchboardException.invalid("Resume point '" + part + "' is not partition:seq.");
                }
                int partition = Integer.parseInt(kv[0].trim());
                long seq = Long.parseLong(kv[1].trim());
                if (partition < 0 || partition >= partitions) {
                    throw SwitchboardException.invalid("Partition " + partition + " does not exist (the topic has " + partitions + ").");
                }
                requireSeq(seq);
                after.put(partition, seq);
            }
            return after;
        } catch (NumberFormatException e) {
            throw SwitchboardException.invalid("Resume point '" + text + "' is not a seq or a partition:seq list.");
        }
    }

    /** The text form: a plain seq for one partition, else the vector. */
    public static String format(Map<Integer, Long> positions) {
        if (positions.size() == 1 && positions.containsKey(0)) {
            return Long.toString(positions.get(0));
        }
        StringBuilder sb = new StringBuilder();
        new TreeMap<>(positions).forEach((p, seq) -> {
            if (!sb.isEmpty()) {
                sb.append(',');
            }
            sb.append(p).append(':').append(seq);
        });
        return sb.toString();
    }

    private static void requireSeq(long seq) {
        if (seq < 0) {
            throw SwitchboardException.invalid("A resume point is a seq >= 0.");
        }
    }
}
