package dev.switchboard.gateway.session;

import org.jspecify.annotations.Nullable;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.http.server.reactive.ServerHttpResponseDecorator;
import org.springframework.web.reactive.socket.HandshakeInfo;
import org.springframework.web.reactive.socket.WebSocketHandler;
import org.springframework.web.reactive.socket.server.RequestUpgradeStrategy;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.WebsocketServerSpec;
import reactor.util.context.Context;

import java.util.function.Supplier;

/**
 * The upgrade of {@code /v1/ws} on Reactor Netty, as Spring's {@code ReactorNettyRequestUpgradeStrategy}
 * does it (the handshake checks and the origin check have run before), but handing the socket's
 * Reactor Netty ends to {@link SessionHandler} instead of wrapping them in a Spring
 * {@code WebSocketSession}: the session writes its frames on the Netty channel itself, and a
 * connection keeps no {@link HandshakeInfo} — no copy of the handshake's headers and cookies — for
 * its whole life ({@code handshakeInfo} is never called).
 *
 * <p>No permessage-deflate: the session writes frames built once for every socket, past Netty's
 * WebSocket encoder, which a compressing extension would have to see.
 */
final class GatewayUpgradeStrategy implements RequestUpgradeStrategy {

    private final int maxFramePayloadLength;

    GatewayUpgradeStrategy(int maxFramePayloadLength) {
        this.maxFramePayloadLength = maxFramePayloadLength;
    }

    @Override
    public Mono<Void> upgrade(ServerWebExchange exchange, WebSocketHandler handler, @Nullable String subProtocol,
                              Supplier<HandshakeInfo> handshakeInfo) {
        if (!(handler instanceof SessionHandler sessions)) {
            return Mono.error(new IllegalStateException("only the gateway's SessionHandler is upgraded here"));
        }
        ServerHttpResponse response = exchange.getResponse();
        HttpServerResponse nativeResponse = ServerHttpResponseDecorator.getNativeResponse(response);
        WebsocketServerSpec.Builder spec = WebsocketServerSpec.builder()
                .maxFramePayloadLength(maxFramePayloadLength)
                .compress(false);
        if (subProtocol != null) {
            spec.protocols(subProtocol);
        }
        // setComplete runs WebFlux's before-commit actions (security headers) before the 101.
        return response.setComplete()
                .then(Mono.defer(() -> nativeResponse.sendWebsocket(sessions::handle, spec.build()))
                        // Reactor Netty runs the socket with the context of the upgrade request; the request's
                        // (its observation and security context, and through them the exchange) would stay
                        // reachable for the socket's whole life. The session needs none of it.
                        .contextWrite(context -> Context.empty()));
    }
}
