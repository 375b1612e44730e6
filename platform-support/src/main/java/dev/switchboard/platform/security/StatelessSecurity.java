package dev.switchboard.platform.security;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.platform.problem.ProblemMapper;
import dev.switchboard.platform.problem.ProblemWebExceptionHandler;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.web.server.context.NoOpServerSecurityContextRepository;

/**
 * The base every Switchboard service's security chain starts from: stateless bearer credentials
 * only (no CSRF, basic, form login, logout, request cache or session), and 401/403 answered as
 * problem+json of the catalog. Each service adds its own authentication filter and rules.
 */
public final class StatelessSecurity {

    private StatelessSecurity() {
    }

    public static ServerHttpSecurity base(ServerHttpSecurity http, ProblemWebExceptionHandler problems,
                                          String unauthenticated, String forbidden) {
        return http
                .csrf(ServerHttpSecurity.CsrfSpec::disable)
                .httpBasic(ServerHttpSecurity.HttpBasicSpec::disable)
                .formLogin(ServerHttpSecurity.FormLoginSpec::disable)
                .logout(ServerHttpSecurity.LogoutSpec::disable)
                .requestCache(ServerHttpSecurity.RequestCacheSpec::disable)
                .securityContextRepository(NoOpServerSecurityContextRepository.getInstance())
                .exceptionHandling(handling -> handling
                        .authenticationEntryPoint((exchange, e) -> problems.write(exchange.getResponse(),
                                ProblemMapper.of(ErrorCode.UNAUTHENTICATED, unauthenticated)))
                        .accessDeniedHandler((exchange, e) -> problems.write(exchange.getResponse(),
                                ProblemMapper.of(ErrorCode.FORBIDDEN, forbidden))));
    }
}
