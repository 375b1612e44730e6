package dev.switchboard.delivery.durable;

/**
 * Offsets of a stream: {@code 0000000000000000_} and the seq of the last message before the
 * position in 16 decimal digits, so that byte-wise order is seq order (the protocol compares offsets
 * as strings), no offset is ever {@code -1} or {@code now}, and the beginning of a new stream is
 * {@code 0000000000000000_0000000000000000}, the zero offset the reference server and its clients
 * know. The first half is reserved (always zero). Offsets carry no stream identity: a stream
 * created again at a deleted stream's path starts after the deleted one's last seq
 * ({@code streams.base_seq}), so an old offset is never a position in the new one.
 */
final class StreamOffsets {

    static final String BEGINNING = "-1";
    static final String NOW = "now";
    private static final String RESERVED = "0000000000000000_";
    private static final int DIGITS = 16;

    private StreamOffsets() {
    }

    /**
     * Added to a topic view's offset once the run it follows has ended ({@link TopicView}): the
     * offset's first half becomes {@code 0000000000000001}, still after every earlier offset.
     */
    static final long ENDED = 10_000_000_000_000_000L;

    static String format(long seq) {
        String high = Long.toString(seq / ENDED);
        String low = Long.toString(seq % ENDED);
        return "0".repeat(DIGITS - high.length()) + high + "_" + "0".repeat(DIGITS - low.length()) + low;
    }

    /** An offset of a topic view: the seq, plus {@link #ENDED} when it marks the run's end; -1 when malformed. */
    static long parseView(String offset) {
        if (offset.startsWith("0000000000000001_")) {
            long seq = parse(RESERVED + offset.substring(RESERVED.length()));
            return seq < 0 ? -1 : ENDED + seq;
        }
        return parse(offset);
    }

    /** The seq an offset stands after; -1 when it is no offset of ours (malformed). */
    static long parse(String offset) {
        if (offset.length() != RESERVED.length() + DIGITS || !offset.startsWith(RESERVED)) {
            return -1;
        }
        long seq = 0;
        for (int i = RESERVED.length(); i < offset.length(); i++) {
            char c = offset.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            seq = seq * 10 + (c - '0');
        }
        return seq;
    }
}
