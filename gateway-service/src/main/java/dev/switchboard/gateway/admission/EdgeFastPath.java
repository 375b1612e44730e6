package dev.switchboard.gateway.admission;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.errors.Headers;
import dev.switchboard.contracts.registry.KeyPrincipal;
import dev.switchboard.contracts.registry.TenantQuotas;
import dev.switchboard.registryclient.RegistryClient;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The cheapest refusal there is: a publish of a tenant already over its bucket or its concurrency
 * bound is answered here, right after the HTTP decoder, before Spring's web stack, the security
 * chain or the body are touched — so a refused flood costs little more than parsing its request
 * lines. Decided only from memory: the API key's principal and the tenant's quotas as the registry
 * client has them cached, and {@link EdgeAdmission}'s bucket and in-flight count, peeked without
 * taking. Whatever cannot be decided so (a key not cached yet, a client JWT, a bucket with tokens)
 * goes on as usual, where {@link EdgeAdmission} admits or refuses it for real.
 *
 * <p>One instance per connection. A request is answered here only when nothing earlier on the
 * connection is still being answered, so pipelined responses keep their order; its body is read
 * and dropped, and the connection stays open unless the request asked to close it.
 */
public final class EdgeFastPath extends ChannelDuplexHandler {

    public static final String NAME = "switchboard.edgeFastPath";
    private static final Pattern PUBLISH = Pattern.compile("/v1/topics/[^/?#]+/events");

    private final EdgeAdmission admission;
    private final RegistryClient registry;
    /** Requests passed on whose responses have not been written to the end yet. */
    private int outstanding;
    /** The body of a request answered here: dropped until its last content. */
    private boolean dropping;

    EdgeFastPath(EdgeAdmission admission, RegistryClient registry) {
        this.admission = admission;
        this.registry = registry;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (dropping && msg instanceof HttpContent && !(msg instanceof HttpRequest)) {
            dropping = !(msg instanceof LastHttpContent);
            ReferenceCountUtil.release(msg);
            // Nothing downstream saw this request, so nothing there asks for more: reading is up to us
            // (Reactor Netty reads on demand), for the rest of the body and then the next request.
            ctx.read();
            return;
        }
        if (msg instanceof HttpRequest request) {
            Optional<EdgeAdmission.Refusal> refusal = outstanding == 0 ? refusal(request) : Optional.empty();
            if (refusal.isPresent()) {
                answer(ctx, request, refusal.get(), msg);
                return;
            }
            outstanding++;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof LastHttpContent && outstanding > 0) {
            outstanding--;
        }
        ctx.write(msg, promise);
    }

    private Optional<EdgeAdmission.Refusal> refusal(HttpRequest request) {
        if (request.method() != HttpMethod.POST || !request.decoderResult().isSuccess() || HttpUtil.is100ContinueExpected(request)) {
            return Optional.empty();
        }
        String uri = request.uri();
        int query = uri.indexOf('?');
        if (!PUBLISH.matcher(query < 0 ? uri : uri.substring(0, query)).matches()) {
            return Optional.empty();
        }
        String authorization = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (authorization == null || !authorization.startsWith("Bearer sb_")) {
            return Optional.empty();
        }
        Optional<KeyPrincipal> key = registry.cachedKey(authorization.substring(7));
        if (key.isEmpty()) {
            return Optional.empty();
        }
        Optional<TenantQuotas> quotas = registry.cachedQuotas(key.get().tenant());
        return quotas.isEmpty() ? Optional.empty() : admission.wouldRefuse(key.get().tenant(), quotas.get());
    }

    private void answer(ChannelHandlerContext ctx, HttpRequest request, EdgeAdmission.Refusal refusal, Object msg) {
        boolean whole = msg instanceof LastHttpContent;
        ReferenceCountUtil.release(msg);
        long retryMs = Math.max(1, refusal.retryAfter().toMillis());
        byte[] body = ("{\"type\":\"urn:switchboard:problem:" + ErrorCode.RATE_LIMITED.code() + "\",\"title\":\""
                + ErrorCode.RATE_LIMITED.title() + "\",\"status\":429,\"detail\":\"" + refusal.detail() + "\",\"code\":\""
                + ErrorCode.RATE_LIMITED.code() + "\",\"retryAfterMs\":" + retryMs + "}").getBytes(StandardCharsets.UTF_8);
        ByteBuf content = ctx.alloc().buffer(body.length).writeBytes(body);
        // In the request's own version: an HTTP/1.0 client keeps the connection only when told to in so many words.
        HttpVersion version = request.protocolVersion().equals(HttpVersion.HTTP_1_0) ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1;
        FullHttpResponse response = new DefaultFullHttpResponse(version, HttpResponseStatus.TOO_MANY_REQUESTS, content);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, Headers.PROBLEM_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(Headers.RETRY_AFTER, Long.toString((retryMs + 999) / 1000));
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        HttpUtil.setKeepAlive(response, keepAlive);
        if (!keepAlive) {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        // Written from here toward the encoder: this handler's own write() does not count it as the web stack's.
        ctx.writeAndFlush(response);
        // The body comes after the request line (unless the decoder gave both at once): drop it as it arrives.
        dropping = !whole;
        ctx.read();
    }
}
