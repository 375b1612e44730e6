package dev.switchboard.registry.api;

import dev.switchboard.platform.http.ServerPipeline;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpRequest;
import org.springframework.boot.reactor.netty.NettyServerCustomizer;
import org.springframework.stereotype.Component;
import reactor.netty.NettyPipeline;
import reactor.netty.http.server.HttpServer;

/**
 * Lets a topic pattern travel raw in a path segment: {@code PUT /admin/v1/tenants/acme/topics/ai.>}
 * as curl sends it. {@code >} (and the other characters RFC 3986 forbids but clients send anyway)
 * would make {@code java.net.URI} reject the request line, and Spring answer a bare 400 before any
 * handler runs; this percent-encodes them as the request is decoded, so the raw and the encoded
 * forms ({@code ai.%3E}) reach the application as the same path.
 */
@Component
class RequestTargetEscaper implements NettyServerCustomizer {

    /** Printable ASCII that is never legal in a URI: escaped, never interpreted. */
    private static final String UNSAFE = "<>\"{}|\\^`";
    private static final String HANDLER = "switchboard.requestTargetEscaper";
    private static final ChannelHandler ESCAPER = new Escaper();

    @Override
    public HttpServer apply(HttpServer server) {
        return ServerPipeline.addAfter(server, NettyPipeline.HttpCodec, HANDLER, ESCAPER);
    }

    /** {@code uri} with every unsafe character percent-encoded; the same instance when there is none. */
    static String escape(String uri) {
        StringBuilder escaped = null;
        for (int i = 0; i < uri.length(); i++) {
            char c = uri.charAt(i);
            if (UNSAFE.indexOf(c) >= 0) {
                if (escaped == null) {
                    escaped = new StringBuilder(uri.length() + 8).append(uri, 0, i);
                }
                escaped.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
            } else if (escaped != null) {
                escaped.append(c);
            }
        }
        return escaped == null ? uri : escaped.toString();
    }

    @ChannelHandler.Sharable
    private static final class Escaper extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest request) {
                String uri = request.uri();
                String escaped = escape(uri);
                if (!escaped.equals(uri)) {
                    request.setUri(escaped);
                }
            }
            ctx.fireChannelRead(msg);
        }
    }
}
