package dev.switchboard.gateway.session;

import dev.switchboard.gateway.auth.ClientTokens;
import dev.switchboard.gateway.config.WebSocketProperties;
import dev.switchboard.gateway.fanout.Fanout;
import dev.switchboard.gateway.protocol.FrameCodec;
import dev.switchboard.gateway.rest.DeliveryClient;
import dev.switchboard.registryclient.RegistryClient;
import org.springframework.stereotype.Component;
import org.springframework.web.reactive.socket.WebSocketHandler;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import org.springframework.web.reactive.socket.CloseStatus;
import org.springframework.web.reactive.socket.WebSocketMessage;
import org.springframework.web.reactive.socket.WebSocketSession;
import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code /v1/ws}: one {@link Session} per connection, run as three parts raced against each other,
 * all inside the publisher returned here:
 * <ul>
 *   <li>inbound — frames read with bounded concurrency ({@code maxInflight}); reading stops while
 *       that many requests are in progress, so a flooding client is held back by TCP;</li>
 *   <li>outbound — the session's bounded queue, written by this one writer as fast as the socket
 *       takes it; when the session closes, its last frames go out, then the close frame, and the
 *       connection ends when the peer answers it (inbound completes);</li>
 *   <li>the cut — once the session decided to close, {@code closeTimeout} after which the connection
 *       is cut even if the peer does not read.</li>
 * </ul>
 * Whichever ends first ends the connection; then the session's subscriptions are detached. The
 * connect deadline, pings and the idle check are driven by {@link Sessions}' one clock for all
 * sockets ({@link Session#tick}), which costs no timer per socket.
 */
@Component
class SessionHandler implements WebSocketHandler {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(SessionHandler.class);

    private final SessionContext context;

    SessionHandler(WebSocketProperties properties, FrameCodec codec, ClientTokens tokens, RegistryClient registry,
                   DeliveryClient delivery, Fanout fanout, Sessions sessions, JsonMapper json) {
        this.context = new SessionContext(properties, codec, tokens, registry, delivery, fanout, sessions, json);
    }

    /**
     * The close frame, as the last message of the socket's one writer, without closing the TCP
     * connection. Reactor Netty's own close ({@code WebSocketSession.close}) closes the channel as
     * soon as the frame is written; a peer that still has frames to read then answers their pings
     * into a closed socket and gets a reset, and its kernel drops every frame it has not read — the
     * {@code reconnect} included. Written as an ordinary frame, the close waits for the peer's
     * reply, which ends the connection (Reactor Netty closes it on the peer's close frame). Spring
     * writes a message's native Netty frame as it is, which is how a close frame gets through its
     * message API.
     */
    static WebSocketMessage closeMessage(WebSocketSession ws, CloseStatus status) {
        return new WebSocketMessage(WebSocketMessage.Type.BINARY, ws.bufferFactory().wrap(new byte[0]),
                new CloseWebSocketFrame(status.getCode(), status.getReason()));
    }

    @Override
    public Mono<Void> handle(WebSocketSession ws) {
        Session session = new Session(context);
        WebSocketProperties properties = context.properties();
        Mono<Void> inbound = ws.receive()
                .doOnNext(m -> session.touch())
                .flatMap(session::onMessage, properties.maxInflight())
                .onErrorResume(e -> Mono.empty())
                .then();
        Mono<Void> outbound = ws.send(session.outbound().flux().map(frame -> frame.isPing()
                        ? ws.pingMessage(factory -> factory.wrap(new byte[0]))
                        // Wraps the frame's shared bytes: no per-socket encoding or copy.
                        : new WebSocketMessage(WebSocketMessage.Type.TEXT, ws.bufferFactory().wrap(frame.utf8())))
                        .concatWith(Mono.fromSupplier(() -> closeMessage(ws, session.closeStatus()))))
                // The closing handshake: keep reading until the peer answers the close (inbound completes),
                // so that its last pongs do not hit a closed socket, whose reset would make the peer's
                // kernel discard the frames it has not read yet — the reconnect frame among them.
                .then(Mono.never());
        // The connect deadline and the pings run off one shared clock (Sessions), not a timer per socket.
        Mono<Void> cut = session.terminated().then(Mono.delay(properties.closeTimeout()))
                .then(Mono.defer(() -> ws.close(session.closeStatus())));
        return Mono.fromRunnable(() -> context.sessions().opened(session))
                .then(Mono.firstWithSignal(inbound, outbound, cut))
                .onErrorResume(e -> Mono.empty())
                .doFinally(s -> {
                    if (log.isDebugEnabled()) {
                        log.debug("socket {} ended ({}), close status {}", session.id(), s, session.closeStatus());
                    }
                    session.cleanup();
                    context.sessions().closed(session);
                });
    }
}
