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

    static String format(long seq) {
        String digits = Long.toString(seq);
        return RESERVED + "0".repeat(DIGITS - digits.length()) + digits;
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
