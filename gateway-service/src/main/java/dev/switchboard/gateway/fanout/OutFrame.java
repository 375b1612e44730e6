package dev.switchboard.gateway.fanout;

import dev.switchboard.gateway.protocol.WebSocketWire;
import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;

/**
 * One frame waiting in a socket's {@link Outbound} queue, already framed for the wire
 * ({@link WebSocketWire}). An event frame is built once per event in one pooled direct buffer and
 * the same instance — the same bytes — is queued for every socket that gets it; each socket writes a
 * duplicate of it (its own indices, the shared bytes), so nothing is encoded or copied per socket.
 * {@code topic}, {@code partition} and {@code seq} are set for events only: writing one moves the
 * socket's resume point.
 *
 * <p>The buffer is reference-counted: whoever builds a frame holds one reference and releases it
 * when done with it ({@link #release()}); a queue that takes the frame takes a reference of its own
 * ({@link Outbound#offer}), handed on to the channel when the frame is written, released when the
 * frame is dropped.
 *
 * @param wire        the complete WebSocket frame; null for a ping. Never modified once built
 * @param bytes       the payload's size, what the queue's byte bound counts
 * @param liveSince   for a live event, when its line arrived from delivery ({@link System#nanoTime()}),
 *                    so writing it can time the socket stage of the live path; 0 for everything else
 */
public record OutFrame(ByteBuf wire, int bytes, String topic, int partition, long seq, long liveSince) {

    /** A WebSocket ping (a control frame, not JSON). */
    public static final OutFrame PING = new OutFrame(null, 0, null, -1, -1, 0);

    /** A frame for one socket, on the heap. */
    public static OutFrame text(String text) {
        ByteBuf wire = WebSocketWire.text(text);
        return new OutFrame(wire, WebSocketWire.payloadLength(wire), null, -1, -1, 0);
    }

    /** An event's frame, in a pooled direct buffer: shared by every socket that gets the event. */
    public static OutFrame event(String text, String topic, int partition, long seq) {
        return live(text, topic, partition, seq, 0);
    }

    /** A live event's frame (see {@code liveSince}). */
    public static OutFrame live(String text, String topic, int partition, long seq, long liveSince) {
        ByteBuf wire = WebSocketWire.sharedText(text);
        return new OutFrame(wire, WebSocketWire.payloadLength(wire), topic, partition, seq, liveSince);
    }

    public OutFrame retain() {
        if (wire != null) {
            wire.retain();
        }
        return this;
    }

    public void release() {
        if (wire != null) {
            wire.release();
        }
    }

    /** The frame's JSON text, for logs and tests (decodes; the writer uses {@link #wire()}). */
    public String text() {
        if (wire == null) {
            return null;
        }
        return wire.toString(wire.readerIndex() + wire.readableBytes() - bytes, bytes, StandardCharsets.UTF_8);
    }

    public boolean isPing() {
        return wire == null;
    }

    public boolean isEvent() {
        return topic != null;
    }
}
