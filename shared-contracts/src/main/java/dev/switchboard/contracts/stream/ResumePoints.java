package dev.switchboard.contracts.stream;

import java.util.Map;
import java.util.TreeMap;

/**
 * Resume points as they travel in query strings ({@code after=}) and SSE ids ({@code id:},
 * {@code Last-Event-ID}): a plain seq ({@code 41}: every partition after 41 — all a one-partition
 * topic ever needs, and exactly PROTOCOL.md's "id: = seq"), or a vector {@code 0:41,1:7} for a
 * topic with several partitions. Partitions a vector leaves out start from the oldest retained event.
 */
public final class ResumePoints {

    private ResumePoints() {
    }

    /** @throws IllegalArgumentException with a message fit for a client, for anything malformed or out of range */
    public static Map<Integer, Long> parse(String text, int partitions) {
        Map<Integer, Long> after = new TreeMap<>();
        String value = text.trim();
        try {
            if (!value.contains(":")) {
                long seq = requireSeq(Long.parseLong(value));
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
                    throw new IllegalArgumentException("Resume point '" + part + "' is not partition:seq.");
                }
                int partition = Integer.parseInt(kv[0].trim());
                if (partition < 0 || partition >= partitions) {
                    throw new IllegalArgumentException("Partition " + partition + " does not exist (the topic has " + partitions + ").");
                }
                after.put(partition, requireSeq(Long.parseLong(kv[1].trim())));
            }
            return after;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Resume point '" + text + "' is not a seq or a partition:seq list.");
        }
    }

    /** The text form: a plain seq when only partition 0 is known, else the vector. */
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

    private static long requireSeq(long seq) {
        if (seq < 0) {
            throw new IllegalArgumentException("A resume point is a seq >= 0.");
        }
        return seq;
    }
}
