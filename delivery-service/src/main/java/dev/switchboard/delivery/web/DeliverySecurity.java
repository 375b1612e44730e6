package dev.switchboard.delivery.web;

import dev.switchboard.delivery.config.DeliveryProperties;
import dev.switchboard.platform.problem.ProblemWebExceptionHandler;
import dev.switchboard.platform.security.InternalServiceSecurity;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.web.server.SecurityWebFilterChain;

/**
 * delivery-service is internal: only callers holding the service token (the gateway, workflow)
 * reach {@code /internal/v1}, and they vouch for the tenant in the path.
 */
@Configuration(proxyBeanMethods = false)
class DeliverySecurity {

    @Bean
    SecurityWebFilterChain deliveryFilterChain(ServerHttpSecurity http, DeliveryProperties properties,
                                               ProblemWebExceptionHandler problems) {
        return InternalServiceSecurity.chain(http, problems, properties.serviceToken(), "delivery-service");
    }
}
