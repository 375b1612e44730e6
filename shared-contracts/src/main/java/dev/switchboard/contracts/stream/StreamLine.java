package dev.switchboard.contracts.stream;

import java.util.Map;
import java.util.TreeMap;

/**
 * One line of delivery-service's live stream ({@code application/x-ndjson}), as the gateway reads
 * it. The format is fixed so neither side re-parses the event envelope it carries:
 * <pre>
 * {"position":{"0":41,"1":7}}                         where the stream starts, per partition
 * {"partition":0,"seq":42,"event":{…CloudEvent…}}     an event
 * {"partition":0,"gap":{"from":1,"to":40}}            retention removed these; the stream goes on after them
 * {"heartbeat":true}                                  the stream is alive (every 15 s)
 * </pre>
 */
public sealed interface StreamLine {

    /** The line's text, without the newline. */
    String format();

    record Position(Map<Integer, Long> positions) implements StreamLine {
        public Position {
            positions = Map.copyOf(positions);
        }

        @Override
        public String format() {
            StringBuilder sb = new StringBuilder("{\"position\":{");
            boolean first = true;
            for (Map.Entry<Integer, Long> e : new TreeMap<>(positions).entrySet()) {
                if (!first) {
                    sb.append(',');
                }
                sb.append('"').append(e.getKey()).append("\":").append(e.getValue());
                first = false;
            }
            return sb.append("}}").toString();
        }
    }

    /** {@code envelope} is the complete CloudEvent JSON, passed through untouched. */
    record EventLine(int partition, long seq, String envelope) implements StreamLine {
        @Override
        public String format() {
            return "{\"partition\":" + partition + ",\"seq\":" + seq + ",\"event\":" + envelope + "}";
        }
    }

    record Gap(int partition, long from, long to) implements StreamLine {
        @Override
        public String format() {
            return "{\"partition\":" + partition + ",\"gap\":{\"from\":" + from + ",\"to\":" + to + "}}";
        }
    }

    record Heartbeat() implements StreamLine {
        public static final Heartbeat INSTANCE = new Heartbeat();

        @Override
        public String format() {
            return "{\"heartbeat\":true}";
        }
    }

    /** @throws IllegalArgumentException for a line not written by {@link #format()} */
    static StreamLine parse(String line) {
        String s = line.strip();
        try {
            if (s.equals("{\"heartbeat\":true}")) {
                return Heartbeat.INSTANCE;
            }
            if (s.startsWith("{\"position\":{") && s.endsWith("}}")) {
                Map<Integer, Long> positions = new TreeMap<>();
                String body = s.substring("{\"position\":{".length(), s.length() - 2);
                if (!body.isEmpty()) {
                    for (String entry : body.split(",")) {
                        int colon = entry.indexOf(':');
                        positions.put(Integer.parseInt(entry.substring(1, colon - 1)), Long.parseLong(entry.substring(colon + 1)));
                    }
                }
                return new Position(positions);
            }
            if (s.startsWith("{\"partition\":") && s.endsWith("}")) {
                int comma = s.indexOf(',');
                int partition = Integer.parseInt(s.substring("{\"partition\":".length(), comma));
                String rest = s.substring(comma + 1);
                if (rest.startsWith("\"seq\":")) {
                    int next = rest.indexOf(',');
                    long seq = Long.parseLong(rest.substring("\"seq\":".length(), next));
                    String event = rest.substring(next + 1);
                    if (event.startsWith("\"event\":")) {
                        return new EventLine(partition, seq, event.substring("\"event\":".length(), event.length() - 1));
                    }
                }
                if (rest.startsWith("\"gap\":{\"from\":") && rest.endsWith("}}")) {
                    String body = rest.substring("\"gap\":{\"from\":".length(), rest.length() - 2);
                    int to = body.indexOf(",\"to\":");
                    return new Gap(partition, Long.parseLong(body.substring(0, to)), Long.parseLong(body.substring(to + ",\"to\":".length())));
                }
            }
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a stream line: " + abbreviate(s), e);
        }
        throw new IllegalArgumentException("not a stream line: " + abbreviate(s));
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }
}
