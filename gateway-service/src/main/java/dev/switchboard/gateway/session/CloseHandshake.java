package dev.switchboard.gateway.session;

import dev.switchboard.gateway.fanout.Outbound;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import org.springframework.boot.reactor.netty.NettyServerCustomizer;
import org.springframework.stereotype.Component;
import reactor.netty.http.server.HttpServer;

/**
 * Completes the WebSocket closing handshake the gateway starts, and tells a socket's
 * {@link Outbound} when its channel takes writes again.
 *
 * <p>The session's close frame is written as an ordinary last frame ({@link Outbound}), so the
 * connection stays open until the peer answers: closing at once (Reactor Netty's own close closes the
 * channel as soon as the frame is written) would make a peer that still has frames to read answer
 * their pings into a closed socket and get a reset, and its kernel would drop every frame it has not
 * read — the {@code reconnect} included. Reactor Netty does not know a close was sent that way, and
 * would answer the peer's reply with a second close frame — which browsers treat as a protocol error
 * ("Close received after close"), reporting code 1006 instead of ours. This handler, on every server
 * connection, notes an outgoing close frame and then takes the peer's answer itself: it drops the
 * frame and closes the connection, as RFC 6455 §5.5.1 has the side that sent the first close do.
 */
@Component
class CloseHandshake implements NettyServerCustomizer {

    private static final String NAME = "switchboard.closeHandshake";

    @Override
    public HttpServer apply(HttpServer server) {
        return server.doOnConnection(connection -> connection.addHandlerLast(NAME, new Handler()));
    }

    /** On the channel's event loop: {@code outbound} is the socket's writer, resumed on writability changes. */
    static void watch(Channel channel, Outbound outbound) {
        Handler handler = (Handler) channel.pipeline().get(NAME);
        if (handler == null) {
            throw new IllegalStateException("no " + NAME + " handler on the socket's pipeline");
        }
        handler.outbound = outbound;
    }

    /** Its fields are only touched on the channel's event loop. */
    private static final class Handler extends ChannelDuplexHandler {

        private boolean closeSent;
        private Outbound outbound;

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            if (msg instanceof CloseWebSocketFrame) {
                closeSent = true;
            }
            super.write(ctx, msg, promise);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (closeSent && msg instanceof CloseWebSocketFrame close) {
                close.release();
                ctx.close();
                return;
            }
            super.channelRead(ctx, msg);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
            Outbound out = outbound;
            if (out != null && ctx.channel().isWritable()) {
                out.onWritable();
            }
            super.channelWritabilityChanged(ctx);
        }
    }
}
