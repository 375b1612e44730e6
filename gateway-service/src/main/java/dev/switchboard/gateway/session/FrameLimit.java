package dev.switchboard.gateway.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.WebSocketFrameDecoder;

/**
 * Refuses client messages over the size limit as their bytes arrive, before Netty's WebSocket
 * decoder could buffer them, and keeps the frame stream in step so the closing handshake still
 * works. It sits in front of the decoder and reads only frame headers (RFC 6455 §5.2): a data frame
 * whose payload — or whose message's payload so far, for a fragmented one — is over the limit is
 * dropped, header and payload, and so is the rest of its message; {@code onTooLarge} runs once.
 * Every other byte goes on to the decoder unchanged, the peer's answer to our close frame included.
 *
 * <p>Netty's own limit would instead put its decoder in a corrupt state, write close 1009 and cut
 * the connection, with no {@code error} frame and while the peer is still sending — which turns the
 * close into a reset that can lose the frames before it.
 */
final class FrameLimit extends ChannelInboundHandlerAdapter {

    private static final String NAME = "switchboard.frameLimit";
    private static final int MAX_HEADER = 14;
    /**
     * A final, empty, masked continuation frame: ends, for the decoder, a fragmented message whose
     * first fragments it got before the rest was dropped, so the frames after it still decode.
     */
    private static final byte[] END_OF_MESSAGE = {(byte) 0x80, (byte) 0x80, 0, 0, 0, 0};

    private final long limit;
    private final Runnable onTooLarge;
    private final byte[] header = new byte[MAX_HEADER];
    /** Header bytes of the current frame seen so far; those from earlier buffers are held back here. */
    private int headerSeen;
    /** Payload bytes of the current frame still to come. */
    private long remaining;
    private boolean dropping;
    /** The rest of a fragmented message over the limit is dropped too, up to its final fragment. */
    private boolean droppingMessage;
    private long messageBytes;
    private boolean reported;
    /** A message whose first fragments went on is dropped from here: the decoder gets {@link #END_OF_MESSAGE}. */
    private boolean cutShort;

    private FrameLimit(long limit, Runnable onTooLarge) {
        this.limit = limit;
        this.onTooLarge = onTooLarge;
    }

    /** On the channel's event loop, right after the handshake: before any frame was read. */
    static void install(Channel channel, long limit, Runnable onTooLarge) {
        ChannelHandlerContext decoder = channel.pipeline().context(WebSocketFrameDecoder.class);
        if (decoder == null) {
            throw new IllegalStateException("no WebSocket decoder on the socket's pipeline");
        }
        channel.pipeline().addBefore(decoder.name(), NAME, new FrameLimit(limit, onTooLarge));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        int index = in.readerIndex();
        int end = in.writerIndex();
        // Where the run of bytes to pass on began; the buffer goes on whole unless something is dropped or held.
        int runFrom = index;
        boolean whole = true;
        try {
            while (index < end) {
                if (remaining > 0) {
                    int n = (int) Math.min(remaining, end - index);
                    if (dropping) {
                        pass(ctx, in, runFrom, index);
                        runFrom = index + n;
                        whole = false;
                    }
                    index += n;
                    remaining -= n;
                    continue;
                }
                int headerFrom = index;
                int held = headerSeen;
                while (index < end && (headerSeen < 2 || headerSeen < headerLength())) {
                    header[headerSeen++] = in.getByte(index++);
                }
                if (headerSeen < 2 || headerSeen < headerLength()) {
                    // Held back until the frame's fate is known.
                    pass(ctx, in, runFrom, headerFrom);
                    runFrom = end;
                    whole = false;
                    break;
                }
                headerSeen = 0;
                remaining = payloadLength();
                dropping = drops();
                if (dropping) {
                    pass(ctx, in, runFrom, headerFrom);
                    if (cutShort) {
                        cutShort = false;
                        ctx.fireChannelRead(ctx.alloc().buffer(END_OF_MESSAGE.length).writeBytes(END_OF_MESSAGE));
                    }
                    runFrom = index;
                    whole = false;
                } else if (held > 0) {
                    pass(ctx, in, runFrom, headerFrom);
                    ctx.fireChannelRead(ctx.alloc().buffer(held).writeBytes(header, 0, held));
                    runFrom = headerFrom;
                    whole = false;
                }
            }
        } catch (RuntimeException e) {
            in.release();
            throw e;
        }
        if (whole) {
            ctx.fireChannelRead(in);
        } else {
            pass(ctx, in, runFrom, end);
            in.release();
        }
    }

    private static void pass(ChannelHandlerContext ctx, ByteBuf in, int from, int to) {
        if (to > from) {
            ctx.fireChannelRead(in.retainedSlice(from, to - from));
        }
    }

    /** Valid once two header bytes are in. */
    private int headerLength() {
        int length7 = header[1] & 0x7f;
        boolean masked = (header[1] & 0x80) != 0;
        return 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + (masked ? 4 : 0);
    }

    private long payloadLength() {
        int length7 = header[1] & 0x7f;
        if (length7 == 126) {
            return ((header[2] & 0xffL) << 8) | (header[3] & 0xffL);
        }
        if (length7 == 127) {
            long length = 0;
            for (int i = 2; i < 10; i++) {
                length = (length << 8) | (header[i] & 0xffL);
            }
            // The top bit must be 0 (RFC 6455 §5.2); a "negative" length is simply too large.
            return length < 0 ? Long.MAX_VALUE : length;
        }
        return length7;
    }

    /** Whether the frame whose header was just read is dropped; keeps the message's count. */
    private boolean drops() {
        boolean fin = (header[0] & 0x80) != 0;
        int opcode = header[0] & 0x0f;
        if (opcode > 0x2) {
            // Control frames (checked by the decoder: at most 125 bytes) and reserved opcodes (refused by it).
            return false;
        }
        if (opcode == 0x0 && droppingMessage) {
            droppingMessage = !fin;
            return true;
        }
        droppingMessage = false;
        messageBytes = opcode == 0x0 ? messageBytes + remaining : remaining;
        boolean over = messageBytes > limit || messageBytes < 0;
        if (fin) {
            messageBytes = 0;
        }
        if (!over) {
            return false;
        }
        droppingMessage = !fin;
        cutShort = opcode == 0x0;
        if (!reported) {
            reported = true;
            onTooLarge.run();
        }
        return true;
    }
}
