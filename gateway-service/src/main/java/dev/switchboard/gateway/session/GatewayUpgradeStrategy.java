package dev.switchboard.gateway.session;

import dev.switchboard.platform.problem.SwitchboardException;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;
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

import java.util.Base64;
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

    private static final String VERSION = "Sec-WebSocket-Version";
    private static final String KEY = "Sec-WebSocket-Key";

    private final int maxFramePayloadLength;

    GatewayUpgradeStrategy(int maxFramePayloadLength) {
        this.maxFramePayloadLength = maxFramePayloadLength;
    }

    /**
     * What RFC 6455 §4.2.1 requires of the opening handshake beyond what Spring checks: version 13
     * (Reactor Netty has no handshaker for others and failed with a NullPointerException), and a
     * {@code Sec-WebSocket-Key} that is the base64 of 16 bytes.
     */
    static SwitchboardException handshakeFault(HttpHeaders headers) {
        String version = headers.getFirst(VERSION);
        if (!"13".equals(version == null ? null : version.trim())) {
            SwitchboardException e = SwitchboardException.invalid("Sec-WebSocket-Version " + (version == null ? "is missing"
                    : "'" + abbreviate(version) + "' is not supported") + "; this server speaks version 13 (RFC 6455).");
            e.getHeaders().set(VERSION, "13");
            return e;
        }
        String key = headers.getFirst(KEY);
        byte[] decoded;
        try {
            decoded = key == null ? null : Base64.getDecoder().decode(key.trim());
        } catch (IllegalArgumentException e) {
            decoded = null;
        }
        if (decoded == null || decoded.length != 16 || !Base64.getEncoder().encodeToString(decoded).equals(key.trim())) {
            return SwitchboardException.invalid("Sec-WebSocket-Key must be the base64 encoding of 16 random bytes (RFC 6455 §4.1).");
        }
        return null;
    }

    private static String abbreviate(String text) {
        String printable = text.replaceAll("[^\\x20-\\x7e]", "?");
        return printable.length() <= 16 ? printable : printable.substring(0, 16) + "...";
    }

    @Override
    public Mono<Void> upgrade(ServerWebExchange exchange, WebSocketHandler handler, @Nullable String subProtocol,
                              Supplier<HandshakeInfo> handshakeInfo) {
        if (!(handler instanceof SessionHandler sessions)) {
            return Mono.error(new IllegalStateException("only the gateway's SessionHandler is upgraded here"));
        }
        SwitchboardException refusal = handshakeFault(exchange.getRequest().getHeaders());
        if (refusal != null) {
            return Mono.error(refusal);
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
