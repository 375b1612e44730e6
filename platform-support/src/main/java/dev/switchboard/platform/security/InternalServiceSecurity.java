package dev.switchboard.platform.security;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.platform.problem.ProblemMapper;
import dev.switchboard.platform.problem.ProblemWebExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
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
 * The security chain of a service only other services call (delivery, workflow): callers holding
 * the service token reach {@code /internal/v1} and vouch for the tenant in the path. Health and
 * metrics stay open for probes and scrapers; everything else is denied. Failures are problem+json.
 */
public final class InternalServiceSecurity {

    private static final Logger log = LoggerFactory.getLogger(InternalServiceSecurity.class);
    private static final String WRONG_TOKEN = "The service token is missing or wrong.";

    private InternalServiceSecurity() {
    }

    /**
     * @param serviceToken the configured token ({@code SWITCHBOARD_SERVICE_TOKEN}); blank gets a random one, with a
     *                     warning, so that nothing can call the service rather than anything
     * @param serviceName  the service's name, for that warning
     */
    public static SecurityWebFilterChain chain(ServerHttpSecurity http, ProblemWebExceptionHandler problems,
                                               String serviceToken, String serviceName) {
        byte[] token = orRandom(serviceToken, serviceName).getBytes(StandardCharsets.UTF_8);
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
                ProblemMapper.of(ErrorCode.UNAUTHENTICATED, WRONG_TOKEN)));
        return StatelessSecurity.base(http, problems, WRONG_TOKEN, "Not here.")
                .addFilterAt(bearer, SecurityWebFiltersOrder.AUTHENTICATION)
                .authorizeExchange(exchanges -> exchanges
                        .pathMatchers("/actuator/health/**", "/actuator/prometheus").permitAll()
                        .pathMatchers("/internal/**").authenticated()
                        .anyExchange().denyAll())
                .build();
    }

    private static String orRandom(String configured, String serviceName) {
        if (configured != null && !configured.isBlank()) {
            return configured;
        }
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        log.warn("SWITCHBOARD_SERVICE_TOKEN is not set: generated a random one, so no other service can call "
                + "this {}. Set the same SWITCHBOARD_SERVICE_TOKEN on every service.", serviceName);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    }
}
