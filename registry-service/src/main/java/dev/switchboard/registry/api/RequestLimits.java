package dev.switchboard.registry.api;

import dev.switchboard.registry.config.RegistryProperties;
import org.springframework.boot.http.codec.CodecCustomizer;
import org.springframework.core.Ordered;
import org.springframework.http.codec.CodecConfigurer;
import org.springframework.stereotype.Component;

/**
 * Caps every decoded request body at {@code switchboard.registry.max-request-bytes}; a larger body
 * fails with {@code DataBufferLimitException}, which the shared problem handler answers with
 * {@code 413 payload_too_large}. No body is buffered beyond the cap.
 */
@Component
class RequestLimits implements CodecCustomizer, Ordered {

    private final int maxRequestBytes;

    RequestLimits(RegistryProperties properties) {
        this.maxRequestBytes = properties.maxRequestBytes();
    }

    @Override
    public void customize(CodecConfigurer configurer) {
        configurer.defaultCodecs().maxInMemorySize(maxRequestBytes);
    }

    @Override
    public int getOrder() {
        // after Boot's own customizer, which applies spring.codec.max-in-memory-size
        return Ordered.LOWEST_PRECEDENCE;
    }
}
