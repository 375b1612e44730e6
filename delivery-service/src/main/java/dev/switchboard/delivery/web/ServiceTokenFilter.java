package dev.switchboard.delivery.web;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.delivery.config.DeliveryProperties;
import dev.switchboard.platform.problem.ProblemMapper;
import dev.switchboard.platform.problem.ProblemWebExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * delivery-service is internal: only callers holding the service token (the gateway, workflow)
 * reach {@code /internal/v1}; they vouch for the tenant in the path. Health and metrics stay open
 * for probes and scrapers.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 10)
class ServiceTokenFilter implements WebFilter {

    private static final Logger log = LoggerFactory.getLogger(ServiceTokenFilter.class);

    private final byte[] token;
    private final ProblemWebExceptionHandler problems;

    ServiceTokenFilter(DeliveryProperties properties, ProblemWebExceptionHandler problems) {
        String configured = properties.serviceToken();
        if (configured == null || configured.isBlank()) {
            byte[] random = new byte[32];
            new SecureRandom().nextBytes(random);
            configured = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
            log.warn("SWITCHBOARD_SERVICE_TOKEN is not set: generated a random one, so no other service can call "
                    + "this delivery-service. Set the same SWITCHBOARD_SERVICE_TOKEN on every service.");
        }
        this.token = configured.getBytes(StandardCharsets.UTF_8);
        this.problems = problems;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        String path = exchange.getRequest().getPath().pathWithinApplication().value();
        if (!path.startsWith("/internal/")) {
            return chain.filter(exchange);
        }
        String header = exchange.getRequest().getHeaders().getFirst(HttpHeaders.AUTHORIZATION);
        if (header != null && header.startsWith("Bearer ")
                && MessageDigest.isEqual(token, header.substring(7).getBytes(StandardCharsets.UTF_8))) {
            return chain.filter(exchange);
        }
        return problems.write(exchange.getResponse(),
                ProblemMapper.of(ErrorCode.UNAUTHENTICATED, "The service token is missing or wrong."));
    }
}
