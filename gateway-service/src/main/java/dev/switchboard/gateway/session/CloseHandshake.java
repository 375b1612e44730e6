package dev.switchboard.gateway.session;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.util.AttributeKey;
import org.springframework.boot.reactor.netty.NettyServerCustomizer;
import org.springframework.stereotype.Component;
import reactor.netty.http.server.HttpServer;

/**
 * Completes the WebSocket closing handshake the gateway starts. {@link SessionHandler} writes its
 * close frame as an ordinary frame so the connection stays open until the peer answers (closing
 * at once would reset a peer that still has frames to read). Reactor Netty does not know a close
 * was sent that way, and would answer the peer's reply with a second close frame — which browsers
 * treat as a protocol error ("Close received after close"), reporting code 1006 instead of ours.
 * This handler, on every server connection, notes an outgoing close frame and then takes the
 * peer's answer itself: it drops the frame and closes the connection, as RFC 6455 §5.5.1 has the
 * side that sent the first close do.
 */
@Component
class CloseHandshake implements NettyServerCustomizer {

    private static final String NAME = "switchboard.closeHandshake";
    private static final AttributeKey<Boolean> SENT = AttributeKey.valueOf("switchboard.closeSent");

    @Override
    public HttpServer apply(HttpServer server) {
        return server.doOnConnection(connection -> connection.addHandlerLast(NAME, new Handler()));
    }

    private static final class Handler extends ChannelDuplexHandler {

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            if (msg instanceof CloseWebSocketFrame) {
                ctx.channel().attr(SENT).set(Boolean.TRUE);
            }
            super.write(ctx, msg, promise);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (msg instanceof CloseWebSocketFrame close && Boolean.TRUE.equals(ctx.channel().attr(SENT).get())) {
                close.release();
                ctx.close();
                return;
            }
            super.channelRead(ctx, msg);
        }
    }
}
