package dev.switchboard.gateway.fanout;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket08FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket08FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The queue against a channel: Netty's {@link EmbeddedChannel} runs the event loop on the test's
 * thread ({@code runPendingTasks} is the loop getting to the batch), and its user-defined writability
 * stands in for a peer that stopped reading.
 */
class OutboundTests {

    private final AtomicInteger written = new AtomicInteger();
    /** What CloseHandshake does on a socket's pipeline: writability back, the queue goes on. */
    private final Writability writability = new Writability();
    private final EmbeddedChannel channel = new EmbeddedChannel(new WebSocket08FrameEncoder(false), writability);
    private final EmbeddedChannel client = new EmbeddedChannel(new WebSocket08FrameDecoder(WebSocketDecoderConfig.newBuilder()
            .expectMaskedFrames(false).build()));
    private final List<OutFrame> made = new ArrayList<>();

    @AfterEach
    void noReferenceIsLeft() {
        channel.finishAndReleaseAll();
        client.finishAndReleaseAll();
        for (OutFrame frame : made) {
            assertThat(frame.wire().refCnt()).as("event %d", frame.seq()).isZero();
        }
    }

    private static final class Writability extends ChannelInboundHandlerAdapter {
        private Outbound outbound;

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (outbound != null && ctx.channel().isWritable()) {
                outbound.onWritable();
            }
            ctx.fireChannelWritabilityChanged();
        }
    }

    private Outbound outbound(int frames, long bytes) {
        Outbound out = new Outbound(frames, bytes, written::addAndGet);
        out.attach(channel, () -> new CloseWebSocketFrame(4008, null));
        writability.outbound = out;
        return out;
    }

    private void writable(boolean writable) {
        channel.unsafe().outboundBuffer().setUserDefinedWritability(1, writable);
        channel.runPendingTasks();
    }

    private OutFrame event(String topic, long seq) {
        OutFrame frame = OutFrame.event("{\"seq\":" + seq + "}", topic, 0, seq);
        made.add(frame);
        return frame;
    }

    /** Offers as the upstream does: the queue keeps its own reference, the maker releases its one. */
    private static boolean offer(Outbound out, OutFrame frame) {
        boolean queued = out.offer(frame);
        frame.release();
        return queued;
    }

    /** What the peer has read so far, decoded. */
    private List<WebSocketFrame> read() {
        Object msg;
        while ((msg = channel.readOutbound()) != null) {
            client.writeInbound(msg);
        }
        List<WebSocketFrame> frames = new ArrayList<>();
        WebSocketFrame frame;
        while ((frame = client.readInbound()) != null) {
            frames.add(frame);
        }
        return frames;
    }

    private static List<String> texts(List<WebSocketFrame> frames) {
        List<String> texts = new ArrayList<>();
        for (WebSocketFrame f : frames) {
            texts.add(f instanceof TextWebSocketFrame t ? t.text() : f instanceof PingWebSocketFrame ? "ping"
                    : f instanceof CloseWebSocketFrame c ? "close " + c.statusCode() : f.toString());
            f.release();
        }
        return texts;
    }

    @Test
    void framesGoOutInOrderOnTheLoopAndMoveTheResumePoints() {
        Outbound out = outbound(100, 1 << 20);
        out.startPositions("a", Map.of(0, 10L));
        assertThat(offer(out, OutFrame.text("{\"op\":\"subscribed\"}"))).isTrue();
        assertThat(offer(out, event("a", 11))).isTrue();
        assertThat(out.offer(OutFrame.PING)).isTrue();
        assertThat(offer(out, event("a", 12))).isTrue();
        assertThat(read()).as("nothing before the loop runs").isEmpty();
        channel.runPendingTasks();
        assertThat(texts(read())).containsExactly("{\"op\":\"subscribed\"}", "{\"seq\":11}", "ping", "{\"seq\":12}");
        assertThat(written).hasValue(4);
        out.finish(true, resume -> OutFrame.text("resume " + resume));
        channel.runPendingTasks();
        assertThat(texts(read())).containsExactly("resume {a={0=12}}", "close 4008");
        assertThat(out.offer(OutFrame.PING)).as("finished").isFalse();
    }

    @Test
    void oneEventSharedByManySocketsIsWrittenToEachAndReleasedOnce() {
        List<EmbeddedChannel> channels = new ArrayList<>();
        List<Outbound> outs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            EmbeddedChannel ch = new EmbeddedChannel(new WebSocket08FrameEncoder(false));
            Outbound out = new Outbound(10, 1 << 20, n -> { });
            out.attach(ch, () -> new CloseWebSocketFrame(1000, null));
            channels.add(ch);
            outs.add(out);
        }
        OutFrame frame = event("a", 1);
        outs.forEach(out -> assertThat(out.offer(frame)).isTrue());
        frame.release();
        assertThat(frame.wire().refCnt()).isEqualTo(3);
        for (EmbeddedChannel ch : channels) {
            ch.runPendingTasks();
            ByteBuf bytes = ch.readOutbound();
            assertThat(bytes.toString(2, bytes.readableBytes() - 2, java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("{\"seq\":1}");
            bytes.release();
        }
        assertThat(frame.wire().refCnt()).isZero();
        channels.forEach(EmbeddedChannel::finishAndReleaseAll);
    }

    @Test
    void aFullQueueSaysNoAndStopsAtAnUnwritableChannelUntilItDrains() {
        Outbound out = outbound(3, 1 << 20);
        out.startPositions("a", Map.of(0, 0L));
        writable(false); // the peer stopped reading
        assertThat(offer(out, event("a", 1))).isTrue();
        assertThat(offer(out, event("a", 2))).isTrue();
        assertThat(offer(out, event("a", 3))).isTrue();
        assertThat(offer(out, event("a", 4))).as("lagging").isFalse();
        channel.runPendingTasks();
        assertThat(read()).isEmpty();
        assertThat(out.depth()).isEqualTo(3);
        // The lagging cut: the queue is dropped, the resume points are what was written — nothing yet.
        out.finish(true, resume -> OutFrame.text("resume " + resume));
        channel.runPendingTasks();
        assertThat(read()).isEmpty();
        writable(true);
        assertThat(texts(read())).containsExactly("resume {a={0=0}}", "close 4008");
    }

    @Test
    void aReplayIsOfferedOnlyWhatFitsBelowThreeQuartersOfTheQueue() {
        Outbound out = outbound(100, 1000);
        out.startPositions("a", Map.of(0, 0L));
        writable(false);
        // By bytes: 750 bytes of room for frames of up to 30 → 25; by frames the bound would allow 75.
        assertThat(out.replayBudget(30)).isEqualTo(25);
        // Large frames: fewer; larger than the room: still one (a replay always moves).
        assertThat(out.replayBudget(300)).isEqualTo(2);
        assertThat(out.replayBudget(5000)).isEqualTo(1);
        OutFrame first = event("a", 1);
        long size = first.bytes();
        assertThat(offer(out, first)).isTrue();
        assertThat(out.replayBudget(size)).isEqualTo((int) Math.min(74, (750 - size) / size));
        // Every frame the budget allowed is taken without a lagging refusal.
        int budget = out.replayBudget(size);
        for (int i = 0; i < budget; i++) {
            assertThat(offer(out, event("a", 2 + i))).as("frame %d of the budget", i).isTrue();
        }
        out.finish(true, resume -> OutFrame.text("resume " + resume));
        writable(true);
        assertThat(texts(read())).last().isEqualTo("close 4008");
    }

    @Test
    void aReplayBudgetAlsoKeepsAQuarterOfTheFramesFree() {
        assertThat(outbound(8, 1 << 20).replayBudget(1)).isEqualTo(6);
    }

    @Test
    void writingResumesWhenTheChannelDrains() {
        Outbound out = outbound(10, 1 << 20);
        out.startPositions("a", Map.of(0, 0L));
        assertThat(offer(out, event("a", 1))).isTrue();
        channel.runPendingTasks();
        writable(false);
        assertThat(offer(out, event("a", 2))).isTrue();
        channel.runPendingTasks();
        assertThat(texts(read())).containsExactly("{\"seq\":1}");
        assertThat(offer(out, event("a", 3))).isTrue();
        writable(true);
        assertThat(texts(read())).containsExactly("{\"seq\":2}", "{\"seq\":3}");
        out.finish(false, resume -> OutFrame.text("resume " + resume));
        channel.runPendingTasks();
        assertThat(texts(read())).containsExactly("resume {a={0=3}}", "close 4008");
    }

    @Test
    void anAbandonedQueueWritesNothingMoreAndDropsItsFrames() {
        Outbound out = outbound(10, 1 << 20);
        assertThat(offer(out, event("a", 1))).isTrue();
        assertThat(offer(out, event("a", 2))).isTrue();
        out.abandon();
        channel.runPendingTasks();
        assertThat(read()).isEmpty();
        assertThat(out.offer(OutFrame.PING)).isFalse();
    }

    @Test
    void aClosedChannelDropsWhatIsQueued() {
        Outbound out = outbound(10, 1 << 20);
        channel.close();
        assertThat(offer(out, event("a", 1))).isTrue();
        channel.runPendingTasks();
        assertThat(out.depth()).isZero();
        assertThat(out.isFinished()).isTrue();
    }

    @Test
    void framesOfferedBeforeTheChannelIsKnownGoOutOnAttach() {
        Outbound out = new Outbound(10, 1 << 20, written::addAndGet);
        assertThat(offer(out, OutFrame.text("{\"op\":\"early\"}"))).isTrue();
        out.attach(channel, () -> new CloseWebSocketFrame(1000, null));
        channel.runPendingTasks();
        assertThat(texts(read())).containsExactly("{\"op\":\"early\"}");
    }
}
