package dev.switchboard.gateway.fanout;

import java.nio.charset.StandardCharsets;

/**
 * One frame waiting in a socket's {@link Outbound} queue. An event frame is built once per event
 * and the same instance is queued for every socket that gets it, so its size is computed once too.
 * {@code topic}, {@code partition} and {@code seq} are set for events only: writing one moves the
 * socket's resume point.
 *
 * @param text  the frame's JSON text; null for a WebSocket ping
 * @param bytes the text's UTF-8 size, what the queue's byte bound counts
 */
public record OutFrame(String text, int bytes, String topic, int partition, long seq) {

    /** A WebSocket ping (a control frame, not JSON). */
    public static final OutFrame PING = new OutFrame(null, 0, null, -1, -1);

    public static OutFrame text(String text) {
        return new OutFrame(text, utf8Length(text), null, -1, -1);
    }

    public static OutFrame event(String text, String topic, int partition, long seq) {
        return new OutFrame(text, utf8Length(text), topic, partition, seq);
    }

    public boolean isPing() {
        return text == null;
    }

    public boolean isEvent() {
        return topic != null;
    }

    /** Without allocating: most frames are ASCII, where this is one pass over the chars. */
    static int utf8Length(String s) {
        int n = s.length();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                return s.getBytes(StandardCharsets.UTF_8).length;
            }
        }
        return n;
    }
}
