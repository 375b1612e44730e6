package dev.switchboard.gateway.session;

import dev.switchboard.gateway.config.WebSocketProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.web.cors.CorsConfiguration;
import org.springframework.web.reactive.HandlerMapping;
import org.springframework.web.reactive.config.WebFluxConfigurer;
import org.springframework.web.reactive.handler.SimpleUrlHandlerMapping;
import org.springframework.web.reactive.socket.server.WebSocketService;
import org.springframework.web.reactive.socket.server.support.HandshakeWebSocketService;

import java.util.List;
import java.util.Map;

/**
 * Mounts {@link SessionHandler} at {@code /v1/ws}.
 *
 * <p>Origin check: the handshake goes through Spring's CORS processing with
 * {@link WebSocketProperties#allowedOrigins()} as origin patterns. A same-origin page and a client
 * without an {@code Origin} header are not cross-origin requests and always pass; any other origin
 * not on the list gets 403 before the upgrade.
 *
 * <p>Frame size: a message over {@link WebSocketProperties#maxFrameBytes()} gets {@code error
 * payload_too_large} and close 4009; {@link FrameLimit} drops its bytes as they arrive, so it is
 * never buffered, however large.
 */
@Configuration(proxyBeanMethods = false)
class WebSocketConfig implements WebFluxConfigurer {

    static final String PATH = "/v1/ws";

    private final WebSocketProperties properties;

    WebSocketConfig(WebSocketProperties properties) {
        this.properties = properties;
    }

    @Bean
    HandlerMapping webSocketHandlerMapping(SessionHandler handler) {
        SimpleUrlHandlerMapping mapping = new SimpleUrlHandlerMapping(Map.of(PATH, handler), Ordered.HIGHEST_PRECEDENCE);
        CorsConfiguration cors = new CorsConfiguration();
        cors.setAllowedOriginPatterns(properties.allowedOrigins().isEmpty() ? List.of() : properties.allowedOrigins());
        cors.setAllowedMethods(List.of("GET"));
        mapping.setCorsConfigurations(Map.of(PATH, cors));
        return mapping;
    }

    @Override
    public WebSocketService getWebSocketService() {
        return new HandshakeWebSocketService(new GatewayUpgradeStrategy(properties.maxFrameBytes()));
    }
}
