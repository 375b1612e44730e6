package dev.switchboard.platform.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.springframework.boot.reactor.netty.NettyServerCustomizer;
import reactor.netty.NettyPipeline;
import reactor.netty.channel.ChannelOperations;
import reactor.netty.http.server.HttpServer;

/**
 * Keeps an idle HTTP/1.1 keep-alive connection reading, working around a Reactor Netty bug
 * (reactor/reactor-netty#4361, fixed upstream in September 2026) that 1.3.6, the version Spring Boot
 * 4.0.7 manages, still has. {@code KeepAliveReadRearmIntegrationTests} shows the bug without this
 * handler; when that test fails after an upgrade, the handler can go.
 *
 * <p>Reactor Netty's server reads on demand: after each request it must ask for the next read. When
 * a client sends its next request on a kept-alive connection before the server has finished the
 * previous exchange (the response is on the wire, the handler has not yet completed), the request
 * is queued, and it is run once the previous exchange ends. If that queued request is answered
 * synchronously (a 401, a 404, a liveness probe), the drained queue never asks for another read: the
 * connection stays open, the client's next request on it is never read, and it hangs until the
 * client's own timeout. Our services call each other over pooled keep-alive connections, so one such
 * connection in a pool stalls a later publish or lookup. (A registry integration test whose request
 * got no answer in 30 s, right after a synchronous liveness probe, fits this.)
 *
 * <p>This handler, placed after Reactor Netty's traffic handler, hears the same "exchange ended"
 * event. After the traffic handler's own follow-up work has run, it asks for a read if no exchange
 * is in progress on the connection. Asking again when a read is already pending does nothing, so
 * connections that are not affected see no change.
 */
public final class KeepAliveReadRearm implements NettyServerCustomizer {

    static final String HANDLER = "switchboard.keepAliveReadRearm";
    private static final ChannelHandler REARM = new Rearm();

    @Override
    public HttpServer apply(HttpServer server) {
        return ServerPipeline.addAfter(server, NettyPipeline.HttpTrafficHandler, HANDLER, REARM);
    }

    @ChannelHandler.Sharable
    private static final class Rearm extends ChannelInboundHandlerAdapter {

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            // Queued after whatever the traffic handler scheduled for the same event (its queue drain).
            ctx.executor().execute(() -> readIfIdle(ctx));
            super.userEventTriggered(ctx, evt);
        }

        private static void readIfIdle(ChannelHandlerContext ctx) {
            Channel channel = ctx.channel();
            if (channel.isActive() && !channel.config().isAutoRead() && ChannelOperations.get(channel) == null) {
                ctx.read();
            }
        }
    }
}
