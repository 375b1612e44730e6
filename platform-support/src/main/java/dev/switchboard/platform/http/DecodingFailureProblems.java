package dev.switchboard.platform.http;

import dev.switchboard.contracts.errors.ErrorCode;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.springframework.boot.reactor.netty.NettyServerCustomizer;
import reactor.netty.NettyPipeline;
import reactor.netty.http.server.HttpServer;

import java.nio.charset.StandardCharsets;

/**
 * Reactor Netty answers a request it cannot decode (a NUL or a bare CR in a header, a header block
 * or request line over its limits, a malformed request line) itself, with an empty {@code 400},
 * {@code 414} or {@code 431} that never reaches the application. A client's mistake still gets
 * our problem body: this handler, between the HTTP codec and Reactor Netty's own handlers, fills
 * those empty client-error responses with {@code application/problem+json} before they are
 * encoded. Status and headers stay as Netty chose them; the application's own responses always
 * have a body (or are not {@link FullHttpResponse}s) and pass untouched.
 */
public final class DecodingFailureProblems implements NettyServerCustomizer {

    static final String HANDLER = "switchboard.decodingFailureProblems";

    private static final ChannelHandler FILL = new Fill();

    @Override
    public HttpServer apply(HttpServer server) {
        return ServerPipeline.addAfter(server, NettyPipeline.HttpCodec, HANDLER, FILL);
    }

    static String problem(int status) {
        ErrorCode code = status == 413 ? ErrorCode.PAYLOAD_TOO_LARGE : ErrorCode.INVALID_REQUEST;
        String detail = switch (status) {
            case 413 -> "The request is larger than this server takes.";
            case 414 -> "The request line (method, path and query) is longer than this server takes.";
            case 431 -> "The request's headers are larger than this server takes.";
            default -> "The request could not be read as HTTP: a malformed request line or header"
                    + " (control characters such as NUL or a bare CR are not allowed in headers).";
        };
        return "{\"type\":\"urn:switchboard:problem:" + code.code() + "\",\"title\":\"" + code.title() + "\",\"status\":"
                + status + ",\"detail\":\"" + detail + "\",\"code\":\"" + code.code() + "\"}";
    }

    @ChannelHandler.Sharable
    private static final class Fill extends ChannelDuplexHandler {

        /**
         * A body that fails to decode after its request went to the application (a bad chunk size):
         * Reactor Netty would answer 400 but complete the body the handler reads, so the handler went on
         * with a truncated body and then failed to answer ("Status and headers already sent", logged as
         * a server error). Cut here instead: our answer, the connection closed, and the body never ends
         * normally, so nothing of the request is acted on.
         */
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpContent content && !(msg instanceof HttpRequest) && content.decoderResult().isFailure()) {
                content.release();
                byte[] body = problem(400).getBytes(StandardCharsets.UTF_8);
                FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_REQUEST,
                        ctx.alloc().buffer(body.length).writeBytes(body));
                response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/problem+json")
                        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                        .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            // Netty's own answers to undecodable requests close the connection; the application's never
            // need to be told apart by more (and a HEAD answer on a kept-alive connection must stay empty).
            if (msg instanceof FullHttpResponse response && response.content().readableBytes() == 0
                    && response.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE, true)) {
                int status = response.status().code();
                if (status >= 400 && status < 500 && status != 404 && status != 405) {
                    byte[] body = problem(status).getBytes(StandardCharsets.UTF_8);
                    ByteBuf content = ctx.alloc().buffer(body.length).writeBytes(body);
                    FullHttpResponse filled = response.replace(content);
                    response.release();
                    filled.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/problem+json");
                    filled.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
                    ctx.write(filled, promise);
                    return;
                }
            }
            ctx.write(msg, promise);
        }
    }
}
