package dev.switchboard.delivery.web;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.delivery.config.DeliveryProperties;
import dev.switchboard.platform.problem.ProblemMapper;
import dev.switchboard.platform.problem.ProblemWebExceptionHandler;
import dev.switchboard.platform.security.StatelessSecurity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpHeaders;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.authentication.ReactiveAuthenticationManager;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.config.web.server.SecurityWebFiltersOrder;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.authority.AuthorityUtils;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.security.web.server.authentication.AuthenticationWebFilter;
import org.springframework.security.web.server.context.NoOpServerSecurityContextRepository;
import reactor.core.publisher.Mono;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * delivery-service is internal: only callers holding the service token (the gateway, workflow)
 * reach {@code /internal/v1}, and they vouch for the tenant in the path. Health and metrics stay
 * open for probes and scrapers; everything else is denied. Failures are problem+json.
 */
@Configuration(proxyBeanMethods = false)
class DeliverySecurity {

    private static final Logger log = LoggerFactory.getLogger(DeliverySecurity.class);

    @Bean
    SecurityWebFilterChain deliveryFilterChain(ServerHttpSecurity http, DeliveryProperties properties,
                                               ProblemWebExceptionHandler problems) {
        byte[] token = serviceToken(properties).getBytes(StandardCharsets.UTF_8);
        ReactiveAuthenticationManager manager = authentication -> {
            byte[] presented = String.valueOf(authentication.getCredentials()).getBytes(StandardCharsets.UTF_8);
            return MessageDigest.isEqual(token, presented)
                    ? Mono.just(UsernamePasswordAuthenticationToken.authenticated("service", "", AuthorityUtils.NO_AUTHORITIES))
                    : Mono.error(new BadCredentialsException("wrong service token"));
        };
        AuthenticationWebFilter bearer = new AuthenticationWebFilter(manager);
        bearer.setServerAuthenticationConverter(exchange -> {
            String header = exchange.getRequest().getHeaders().getFirst(HttpHeaders.AUTHORIZATION);
            if (header == null || !header.startsWith("Bearer ")) {
                return Mono.empty();
            }
            return Mono.<Authentication>just(UsernamePasswordAuthenticationToken.unauthenticated("service", header.substring(7)));
        });
        bearer.setSecurityContextRepository(NoOpServerSecurityContextRepository.getInstance());
        bearer.setAuthenticationFailureHandler((webExchange, e) -> problems.write(webExchange.getExchange().getResponse(),
                ProblemMapper.of(ErrorCode.UNAUTHENTICATED, "The service token is missing or wrong.")));
        return StatelessSecurity.base(http, problems,
                        "The service token is missing or wrong.",
                        "Not here.")
                .addFilterAt(bearer, SecurityWebFiltersOrder.AUTHENTICATION)
                .authorizeExchange(exchanges -> exchanges
                        .pathMatchers("/actuator/health/**", "/actuator/prometheus").permitAll()
                        .pathMatchers("/internal/**").authenticated()
                        .anyExchange().denyAll())
                .build();
    }

    private static String serviceToken(DeliveryProperties properties) {
        String configured = properties.serviceToken();
        if (configured != null && !configured.isBlank()) {
            return configured;
        }
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        log.warn("SWITCHBOARD_SERVICE_TOKEN is not set: generated a random one, so no other service can call "
                + "this delivery-service. Set the same SWITCHBOARD_SERVICE_TOKEN on every service.");
        return Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    }
}
