package dev.switchboard.gateway.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;

/**
 * The frames the server sends, as complete WebSocket frames (RFC 6455 §5.2): final, unmasked (a
 * server never masks), text or ping. A frame built here is written to the channel as it is — past
 * Netty's WebSocket encoder, which only encodes {@code WebSocketFrame} objects — so an event's frame
 * is built once and the same bytes go to every socket. This only holds without permessage-deflate,
 * which the gateway does not negotiate.
 */
public final class WebSocketWire {

    private static final int FIN_TEXT = 0x81;
    private static final byte[] PING = {(byte) 0x89, 0};

    private WebSocketWire() {
    }

    /** A text frame in a pooled direct buffer, for a frame many sockets share; the caller holds its one reference. */
    public static ByteBuf sharedText(String text) {
        return text(ByteBufAllocator.DEFAULT, true, text);
    }

    /** A text frame on the heap, for a frame one socket gets. */
    public static ByteBuf text(String text) {
        return text(ByteBufAllocator.DEFAULT, false, text);
    }

    /** A ping without payload. */
    public static ByteBuf ping() {
        return Unpooled.wrappedBuffer(PING);
    }

    /** How many bytes of a frame are payload: the frame minus its header. */
    public static int payloadLength(ByteBuf frame) {
        int length = frame.getByte(frame.readerIndex() + 1) & 0x7f;
        return length == 126 ? frame.getUnsignedShort(frame.readerIndex() + 2)
                : length == 127 ? (int) frame.getLong(frame.readerIndex() + 2) : length;
    }

    private static ByteBuf text(ByteBufAllocator alloc, boolean direct, String text) {
        int length = ByteBufUtil.utf8Bytes(text);
        int header = length < 126 ? 2 : length <= 0xffff ? 4 : 10;
        int size = header + length;
        ByteBuf frame = direct ? alloc.directBuffer(size, size) : Unpooled.buffer(size, size);
        frame.writeByte(FIN_TEXT);
        if (length < 126) {
            frame.writeByte(length);
        } else if (length <= 0xffff) {
            frame.writeByte(126).writeShort(length);
        } else {
            frame.writeByte(127).writeLong(length);
        }
        // Reserves exactly the encoded size (writeUtf8 alone would ask for three bytes a char, past the capacity).
        ByteBufUtil.reserveAndWriteUtf8(frame, text, length);
        return frame;
    }
}
