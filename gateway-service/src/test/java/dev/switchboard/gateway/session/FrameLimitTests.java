package dev.switchboard.gateway.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link FrameLimit} in front of Netty's server decoder, fed the bytes a browser would send. */
class FrameLimitTests {

    private static final int LIMIT = 16 * 1024;

    private final AtomicInteger tooLarge = new AtomicInteger();
    private final EmbeddedChannel server = server();
    private final EmbeddedChannel client = new EmbeddedChannel(new WebSocket13FrameEncoder(true));

    @AfterEach
    void close() {
        server.finishAndReleaseAll();
        client.finishAndReleaseAll();
    }

    private EmbeddedChannel server() {
        EmbeddedChannel channel = new EmbeddedChannel(new WebSocket13FrameDecoder(WebSocketDecoderConfig.newBuilder()
                .expectMaskedFrames(true).maxFramePayloadLength(LIMIT).build()));
        FrameLimit.install(channel, LIMIT, tooLarge::incrementAndGet);
        return channel;
    }

    /** The masked bytes of {@code frame}, as a client sends them. */
    private byte[] wire(WebSocketFrame frame) {
        client.writeOutbound(frame);
        ByteBuf all = Unpooled.buffer();
        for (ByteBuf b; (b = client.readOutbound()) != null; ) {
            all.writeBytes(b);
            b.release();
        }
        byte[] bytes = new byte[all.readableBytes()];
        all.readBytes(bytes);
        all.release();
        return bytes;
    }

    private static byte[] concat(byte[]... parts) {
        ByteBuf all = Unpooled.buffer();
        for (byte[] part : parts) {
            all.writeBytes(part);
        }
        byte[] bytes = new byte[all.readableBytes()];
        all.readBytes(bytes);
        return bytes;
    }

    /** Feeds {@code bytes} in reads of {@code chunk} bytes; asserts none of them is kept (buffered) by the limit. */
    private void feed(byte[] bytes, int chunk) {
        for (int from = 0; from < bytes.length; from += chunk) {
            ByteBuf read = Unpooled.copiedBuffer(bytes, from, Math.min(chunk, bytes.length - from));
            server.writeInbound(read);
        }
    }

    private List<WebSocketFrame> decoded() {
        List<WebSocketFrame> frames = new ArrayList<>();
        for (WebSocketFrame f; (f = server.readInbound()) != null; ) {
            frames.add(f);
        }
        return frames;
    }

    private static String text(WebSocketFrame frame) {
        return frame.content().toString(StandardCharsets.UTF_8);
    }

    private static TextWebSocketFrame textFrame(boolean fin, String text) {
        return new TextWebSocketFrame(fin, 0, Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
    }

    private static ContinuationWebSocketFrame continuation(boolean fin, String text) {
        return new ContinuationWebSocketFrame(fin, 0, Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
    }

    @Test
    void framesWithinTheLimitPassUnchangedHoweverTheyAreSplit() {
        String a = "a".repeat(100);
        String b = "b".repeat(LIMIT);
        byte[] bytes = concat(wire(textFrame(true, a)), wire(new PingWebSocketFrame(Unpooled.wrappedBuffer(new byte[]{1, 2}))),
                wire(textFrame(true, b)), wire(textFrame(false, "c")), wire(continuation(true, "d")));
        for (int chunk : new int[]{1, 3, 7, 1000, bytes.length}) {
            feed(bytes, chunk);
            List<WebSocketFrame> frames = decoded();
            assertThat(frames).as("reads of %d bytes", chunk).hasSize(5);
            assertThat(text(frames.get(0))).isEqualTo(a);
            assertThat(frames.get(1)).isInstanceOf(PingWebSocketFrame.class);
            assertThat(text(frames.get(2))).isEqualTo(b);
            assertThat(text(frames.get(3)) + text(frames.get(4))).isEqualTo("cd");
            frames.forEach(WebSocketFrame::release);
        }
        assertThat(tooLarge).hasValue(0);
    }

    @Test
    void aFrameOverTheLimitIsDroppedAsItArrivesAndTheCloseAfterItIsRead() {
        byte[] huge = wire(textFrame(true, "x".repeat(2 * 1024 * 1024)));
        byte[] after = concat(wire(textFrame(true, "late")), wire(new CloseWebSocketFrame(4009, "bye")));
        for (int chunk : new int[]{1, 5, 64 * 1024}) {
            EmbeddedChannel channel = chunk == 1 ? server : server();
            List<ByteBuf> reads = new ArrayList<>();
            byte[] bytes = concat(huge, after);
            int limit = chunk == 1 ? huge.length - 100_000 : 0;
            for (int from = limit; from < bytes.length; from += chunk) {
                ByteBuf read = Unpooled.copiedBuffer(bytes, from, Math.min(chunk, bytes.length - from));
                reads.add(read);
            }
            if (chunk == 1) {
                // Byte by byte, only the tail: the head in one read.
                ByteBuf head = Unpooled.copiedBuffer(bytes, 0, limit);
                channel.writeInbound(head);
                assertThat(head.refCnt()).as("nothing of the huge frame is kept").isZero();
                assertThat((Object) channel.readInbound()).isNull();
            }
            for (ByteBuf read : reads) {
                channel.writeInbound(read);
            }
            List<WebSocketFrame> frames = new ArrayList<>();
            for (WebSocketFrame f; (f = channel.readInbound()) != null; ) {
                frames.add(f);
            }
            assertThat(frames).as("reads of %d bytes", chunk).hasSize(2);
            assertThat(text(frames.get(0))).isEqualTo("late");
            assertThat(((CloseWebSocketFrame) frames.get(1)).statusCode()).isEqualTo(4009);
            frames.forEach(WebSocketFrame::release);
            if (channel != server) {
                channel.finishAndReleaseAll();
            }
        }
        assertThat(tooLarge).hasValue(3);
    }

    @Test
    void aFragmentedMessageOverTheLimitIsDroppedFromTheFragmentThatCrossesIt() {
        String part = "p".repeat(LIMIT / 2);
        byte[] bytes = concat(wire(textFrame(false, part)), wire(continuation(false, part)),
                wire(new PingWebSocketFrame(Unpooled.EMPTY_BUFFER)), wire(continuation(false, "over")),
                wire(continuation(true, part)), wire(textFrame(true, "next")));
        feed(bytes, 1000);
        List<WebSocketFrame> frames = decoded();
        assertThat(tooLarge).hasValue(1);
        // The first two fragments went on before the message was over the limit; the decoder is told it ended.
        assertThat(frames).hasSize(5);
        assertThat(frames.get(0)).isInstanceOf(TextWebSocketFrame.class);
        assertThat(frames.get(0).isFinalFragment()).isFalse();
        assertThat(frames.get(1)).isInstanceOf(ContinuationWebSocketFrame.class);
        assertThat(frames.get(1).isFinalFragment()).isFalse();
        assertThat(frames.get(2)).isInstanceOf(PingWebSocketFrame.class);
        assertThat(frames.get(3)).isInstanceOf(ContinuationWebSocketFrame.class);
        assertThat(frames.get(3).isFinalFragment()).isTrue();
        assertThat(frames.get(3).content().readableBytes()).isZero();
        assertThat(text(frames.get(4))).isEqualTo("next");
        frames.forEach(WebSocketFrame::release);
    }

    @Test
    void aMessageWhoseFirstFragmentIsOverTheLimitIsDroppedWhole() {
        byte[] bytes = concat(wire(textFrame(false, "q".repeat(LIMIT + 1))), wire(continuation(false, "r")),
                wire(continuation(true, "s")), wire(textFrame(true, "next")));
        feed(bytes, 4096);
        List<WebSocketFrame> frames = decoded();
        assertThat(tooLarge).hasValue(1);
        assertThat(frames).hasSize(1);
        assertThat(text(frames.get(0))).isEqualTo("next");
        frames.forEach(WebSocketFrame::release);
    }
}
