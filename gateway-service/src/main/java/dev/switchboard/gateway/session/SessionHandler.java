package dev.switchboard.gateway.session;

import dev.switchboard.gateway.auth.ClientTokens;
import dev.switchboard.gateway.admission.AuthFailureLimiter;
import dev.switchboard.gateway.admission.EdgeAdmission;
import dev.switchboard.gateway.admission.EdgeFastPath;
import dev.switchboard.gateway.config.WebSocketProperties;
import dev.switchboard.gateway.fanout.Fanout;
import dev.switchboard.gateway.fanout.Outbound;
import dev.switchboard.gateway.protocol.FrameCodec;
import dev.switchboard.gateway.rest.DeliveryClient;
import dev.switchboard.platform.http.ServerPipeline;
import dev.switchboard.registryclient.RegistryClient;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import org.springframework.stereotype.Component;
import org.springframework.web.reactive.socket.WebSocketHandler;
import org.springframework.web.reactive.socket.WebSocketSession;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.websocket.WebsocketInbound;
import reactor.netty.http.websocket.WebsocketOutbound;
import tools.jackson.databind.json.JsonMapper;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.stream.Stream;

/**
 * {@code /v1/ws}: one {@link Session} per connection, run as two parts raced against each other,
 * both inside the publisher returned here:
 * <ul>
 *   <li>inbound — frames read with bounded concurrency ({@code maxInflight}); reading stops while
 *       that many requests are in progress, so a flooding client is held back by TCP; it ends when
 *       the connection does (after the closing handshake, or when it breaks);</li>
 *   <li>the cut — once the session decided to close, {@code closeTimeout} after which the connection
 *       is cut even if the peer does not read.</li>
 * </ul>
 * The outbound side is no publisher: the session's {@link Outbound} writes straight to the socket's
 * channel on its event loop, and when the session closes, its last frames go out, then the close
 * frame; the connection ends when the peer answers it ({@link CloseHandshake}), which ends inbound.
 * Whichever part ends first ends the connection; then the session's subscriptions are detached and
 * its queue dropped. The connect deadline, pings and the idle check are driven by {@link Sessions}'
 * one clock for all sockets ({@link Session#tick}), which costs no timer per socket.
 *
 * <p>Spring's {@code WebSocketSession} is not used: {@link GatewayUpgradeStrategy} hands the
 * socket's Reactor Netty ends to {@link #handle(WebsocketInbound, WebsocketOutbound)}.
 */
@Component
class SessionHandler implements WebSocketHandler {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(SessionHandler.class);

    /** The platform's HTTP-only handlers and the gateway's own. */
    private static final List<String> HTTP_ONLY = Stream.concat(ServerPipeline.HTTP_ONLY.stream(), Stream.of(EdgeFastPath.NAME)).toList();

    private final SessionContext context;

    SessionHandler(WebSocketProperties properties, FrameCodec codec, ClientTokens tokens, RegistryClient registry,
                   DeliveryClient delivery, Fanout fanout, Sessions sessions, JsonMapper json, EdgeAdmission admission,
                   AuthFailureLimiter authFailures) {
        this.context = new SessionContext(properties, codec, tokens, registry, delivery, fanout, sessions, json, admission, authFailures);
    }

    @Override
    public Mono<Void> handle(WebSocketSession ws) {
        return Mono.error(new IllegalStateException("/v1/ws is upgraded by " + GatewayUpgradeStrategy.class.getSimpleName()));
    }

    /** On the channel's event loop, once the handshake is done. */
    Mono<Void> handle(WebsocketInbound in, WebsocketOutbound out) {
        Channel channel = channel(in);
        forgetHandshakeHeaders(in, out);
        // The HTTP phase is over: its handlers would only be one more hop for every frame read and written.
        ServerPipeline.removeIfPresent(channel, HTTP_ONLY);
        Session session = new Session(context, channel.remoteAddress() instanceof InetSocketAddress remote ? remote : null);
        WebSocketProperties properties = context.properties();
        // The close frame is written as the queue's last frame without closing the TCP connection (see CloseHandshake).
        session.outbound().attach(channel, () -> new CloseWebSocketFrame(session.closeStatus().getCode(), session.closeStatus().getReason()));
        CloseHandshake.watch(channel, session.outbound());
        FrameLimit.install(channel, properties.maxFrameBytes(), session::frameTooLarge);
        Mono<Void> inbound = in.aggregateFrames(properties.maxFrameBytes())
                .receiveFrames()
                .doOnNext(m -> session.touch())
                .flatMap(session::onMessage, properties.maxInflight())
                .onErrorResume(e -> Mono.empty())
                .then();
        // The connect deadline and the pings run off one shared clock (Sessions), not a timer per socket.
        Mono<Void> cut = session.terminated().then(Mono.delay(properties.closeTimeout()))
                .then(Mono.defer(() -> out.sendClose(session.closeStatus().getCode(), session.closeStatus().getReason())));
        return Mono.fromRunnable(() -> context.sessions().opened(session))
                .then(Mono.firstWithSignal(inbound, cut))
                .onErrorResume(e -> Mono.empty())
                .doFinally(s -> {
                    if (log.isDebugEnabled()) {
                        log.debug("socket {} ended ({}), close status {}", session.id(), s, session.closeStatus());
                    }
                    session.cleanup();
                    context.sessions().closed(session);
                });
    }

    /**
     * Reactor Netty keeps the upgrade request's headers and the 101's for the connection's whole life
     * (about 2 KiB a socket); the handshake is done and nothing reads them any more.
     */
    private static void forgetHandshakeHeaders(WebsocketInbound in, WebsocketOutbound out) {
        in.headers().clear();
        if (out instanceof HttpServerResponse response) {
            response.responseHeaders().clear();
        }
    }

    private static Channel channel(WebsocketInbound in) {
        Channel[] channel = new Channel[1];
        in.withConnection(c -> channel[0] = c.channel());
        return channel[0];
    }
}
