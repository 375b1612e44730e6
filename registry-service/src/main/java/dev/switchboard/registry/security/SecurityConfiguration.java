package dev.switchboard.registry.security;

import dev.switchboard.contracts.registry.InternalApi;
import dev.switchboard.platform.problem.ProblemWebExceptionHandler;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.authentication.ReactiveAuthenticationManager;
import org.springframework.security.config.web.server.SecurityWebFiltersOrder;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.security.web.server.authentication.AuthenticationWebFilter;
import org.springframework.security.web.server.authentication.ServerAuthenticationEntryPointFailureHandler;
import org.springframework.security.web.server.context.NoOpServerSecurityContextRepository;
import org.springframework.security.web.server.savedrequest.NoOpServerRequestCache;
import org.springframework.security.web.server.util.matcher.ServerWebExchangeMatcher;
import org.springframework.security.web.server.util.matcher.ServerWebExchangeMatchers;
import reactor.core.publisher.Mono;

/**
 * Two realms, each with its own credentials, stateless, bearer tokens only:
 * <ul>
 * <li>{@code /internal/**}: the service token and nothing else (the admin token and API keys are
 * unknown credentials there: 401).</li>
 * <li>{@code /admin/v1/**}: the admin token or a tenant API key (the service token is unknown
 * there: 401); which tenant and what a key may touch is decided per operation by
 * {@link TenantAccess}.</li>
 * </ul>
 * Health probes, Prometheus and the OpenAPI document and UI are open; everything else is denied.
 */
@Configuration(proxyBeanMethods = false)
class SecurityConfiguration {

    static final String[] OPEN = {
            "/actuator/health", "/actuator/health/**", "/actuator/prometheus",
            "/v3/api-docs", "/v3/api-docs/**", "/swagger-ui.html", "/swagger-ui/**", "/webjars/**"};

    @Bean
    ProblemAuthentication problemAuthentication(ProblemWebExceptionHandler problems) {
        return new ProblemAuthentication(problems);
    }

    @Bean
    @Order(1)
    SecurityWebFilterChain internalSecurity(ServerHttpSecurity http, PlatformTokens tokens, ProblemAuthentication problems) {
        ReactiveAuthenticationManager serviceOnly = authentication -> {
            String token = ((CallerAuthentication) authentication).token();
            return tokens.isService(token)
                    ? Mono.just(CallerAuthentication.of(new Caller.Service()))
                    : Mono.error(new BadCredentialsException("not the service token"));
        };
        ServerWebExchangeMatcher internal = ServerWebExchangeMatchers.pathMatchers(InternalApi.BASE + "/**");
        return stateless(http, problems)
                .securityMatcher(internal)
                .addFilterAt(bearer(serviceOnly, internal, problems), SecurityWebFiltersOrder.AUTHENTICATION)
                .authorizeExchange(exchanges -> exchanges.anyExchange().hasRole(CallerAuthentication.SERVICE))
                .build();
    }

    @Bean
    @Order(2)
    SecurityWebFilterChain adminSecurity(ServerHttpSecurity http, AdminAuthenticationManager manager,
                                         ProblemAuthentication problems) {
        ServerWebExchangeMatcher admin = ServerWebExchangeMatchers.pathMatchers("/admin/**");
        return stateless(http, problems)
                .addFilterAt(bearer(manager, admin, problems), SecurityWebFiltersOrder.AUTHENTICATION)
                .authorizeExchange(exchanges -> exchanges
                        .pathMatchers(OPEN).permitAll()
                        .pathMatchers("/admin/v1/**").hasAnyRole(CallerAuthentication.PLATFORM, CallerAuthentication.TENANT_KEY)
                        .anyExchange().denyAll())
                .build();
    }

    private static ServerHttpSecurity stateless(ServerHttpSecurity http, ProblemAuthentication problems) {
        return http
                .csrf(ServerHttpSecurity.CsrfSpec::disable)
                .httpBasic(ServerHttpSecurity.HttpBasicSpec::disable)
                .formLogin(ServerHttpSecurity.FormLoginSpec::disable)
                .logout(ServerHttpSecurity.LogoutSpec::disable)
                .anonymous(ServerHttpSecurity.AnonymousSpec::disable)
                .requestCache(cache -> cache.requestCache(NoOpServerRequestCache.getInstance()))
                .securityContextRepository(NoOpServerSecurityContextRepository.getInstance())
                .exceptionHandling(handling -> handling
                        .authenticationEntryPoint(problems)
                        .accessDeniedHandler(problems));
    }

    private static AuthenticationWebFilter bearer(ReactiveAuthenticationManager manager, ServerWebExchangeMatcher where,
                                                  ProblemAuthentication problems) {
        AuthenticationWebFilter filter = new AuthenticationWebFilter(manager);
        filter.setServerAuthenticationConverter(new BearerTokenConverter());
        filter.setRequiresAuthenticationMatcher(where);
        filter.setAuthenticationFailureHandler(new ServerAuthenticationEntryPointFailureHandler(problems));
        filter.setSecurityContextRepository(NoOpServerSecurityContextRepository.getInstance());
        return filter;
    }
}
