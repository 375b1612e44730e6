package dev.switchboard.gateway.fanout;

import java.nio.charset.StandardCharsets;

/**
 * One frame waiting in a socket's {@link Outbound} queue, already encoded. An event frame is
 * encoded once per event and the same instance — the same bytes — is queued for every socket that
 * gets it: each socket's writer wraps the shared array without copying it. {@code topic},
 * {@code partition} and {@code seq} are set for events only: writing one moves the socket's
 * resume point.
 *
 * @param utf8 the frame's JSON text as UTF-8; null for a WebSocket ping. Never modified once built.
 */
public record OutFrame(byte[] utf8, String topic, int partition, long seq) {

    /** A WebSocket ping (a control frame, not JSON). */
    public static final OutFrame PING = new OutFrame(null, null, -1, -1);

    public static OutFrame text(String text) {
        return new OutFrame(text.getBytes(StandardCharsets.UTF_8), null, -1, -1);
    }

    public static OutFrame event(String text, String topic, int partition, long seq) {
        return new OutFrame(text.getBytes(StandardCharsets.UTF_8), topic, partition, seq);
    }

    /** The size the queue's byte bound counts. */
    public int bytes() {
        return utf8 == null ? 0 : utf8.length;
    }

    /** The text, for logs and tests (decodes; the writer uses {@link #utf8()}). */
    public String text() {
        return utf8 == null ? null : new String(utf8, StandardCharsets.UTF_8);
    }

    public boolean isPing() {
        return utf8 == null;
    }

    public boolean isEvent() {
        return topic != null;
    }
}
