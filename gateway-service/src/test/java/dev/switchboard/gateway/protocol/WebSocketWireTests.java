package dev.switchboard.gateway.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket08FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket08FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class WebSocketWireTests {

    /** What a client reads: Netty's own decoder, expecting unmasked frames as a client does. */
    private static EmbeddedChannel client() {
        return new EmbeddedChannel(new WebSocket08FrameDecoder(WebSocketDecoderConfig.newBuilder()
                .expectMaskedFrames(false).maxFramePayloadLength(1 << 20).build()));
    }

    /** Each length encoding (7 bits, 16 bits, 64 bits) and multi-byte characters. */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 125, 126, 127, 65_535, 65_536, 200_000})
    void textFramesAreWhatNettysEncoderWouldWrite(int length) {
        String text = "é".repeat(length / 4) + "x".repeat(length - 2 * (length / 4));
        assertThat(text.getBytes(StandardCharsets.UTF_8)).hasSize(length);
        for (ByteBuf frame : new ByteBuf[] {WebSocketWire.sharedText(text), WebSocketWire.text(text)}) {
            assertThat(WebSocketWire.payloadLength(frame)).isEqualTo(length);
            assertThat(ByteBufUtil.getBytes(frame)).isEqualTo(nettyEncoded(new TextWebSocketFrame(text)));
            EmbeddedChannel client = client();
            client.writeInbound(frame);
            TextWebSocketFrame read = client.readInbound();
            assertThat(read.isFinalFragment()).isTrue();
            assertThat(read.text()).isEqualTo(text);
            read.release();
            assertThat(frame.refCnt()).isZero();
        }
    }

    @Test
    void pingIsAnEmptyPing() {
        EmbeddedChannel client = client();
        client.writeInbound(WebSocketWire.ping());
        PingWebSocketFrame ping = client.readInbound();
        assertThat(ping.content().readableBytes()).isZero();
        ping.release();
    }

    @Test
    void prebuiltFramesPassNettysEncoderUntouched() {
        EmbeddedChannel server = new EmbeddedChannel(new WebSocket08FrameEncoder(false));
        ByteBuf frame = WebSocketWire.sharedText("{\"op\":\"event\"}");
        server.writeOutbound(frame.retainedDuplicate());
        ByteBuf written = server.readOutbound();
        assertThat(written).isEqualTo(frame);
        written.release();
        frame.release();
        assertThat(frame.refCnt()).isZero();
    }

    private static byte[] nettyEncoded(TextWebSocketFrame frame) {
        EmbeddedChannel server = new EmbeddedChannel(new WebSocket08FrameEncoder(false));
        server.writeOutbound(frame);
        ByteBuf out = server.alloc().buffer();
        ByteBuf part;
        while ((part = server.readOutbound()) != null) {
            out.writeBytes(part);
            part.release();
        }
        byte[] bytes = ByteBufUtil.getBytes(out);
        out.release();
        return bytes;
    }
}
