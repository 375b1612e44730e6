package dev.switchboard.registry.api;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.registry.config.RegistryProperties;
import org.springframework.core.Ordered;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * Refuses a request whose declared {@code Content-Length} exceeds
 * {@code switchboard.registry.max-request-bytes} before any of it is read or any credential is
 * looked up. Bodies without a length (chunked) are still capped while decoding
 * ({@link RequestLimits}).
 */
@Component
class RequestSizeLimit implements WebFilter, Ordered {

    private final long maxRequestBytes;

    RequestSizeLimit(RegistryProperties properties) {
        this.maxRequestBytes = properties.maxRequestBytes();
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        long length = exchange.getRequest().getHeaders().getContentLength();
        if (length > maxRequestBytes) {
            return Mono.error(new SwitchboardException(ErrorCode.PAYLOAD_TOO_LARGE,
                    "The request body is larger than the " + maxRequestBytes + " bytes this API accepts."));
        }
        return chain.filter(exchange);
    }

    @Override
    public int getOrder() {
        // ahead of Spring Security's filter chain (-100): cheap, and reveals nothing
        return Ordered.HIGHEST_PRECEDENCE + 100;
    }
}
