package dev.switchboard.registry.security;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.platform.problem.ProblemMapper;
import dev.switchboard.platform.problem.ProblemWebExceptionHandler;
import org.springframework.http.HttpHeaders;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.server.ServerAuthenticationEntryPoint;
import org.springframework.security.web.server.authorization.ServerAccessDeniedHandler;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * 401 and 403 from the security filters, rendered by the same problem writer as every other error.
 * The 401 text is the same for a missing, unknown, revoked or malformed credential.
 */
final class ProblemAuthentication implements ServerAuthenticationEntryPoint, ServerAccessDeniedHandler {

    static final String UNAUTHENTICATED = "A valid bearer token is required (Authorization: Bearer …).";
    static final String FORBIDDEN = "This credential may not do this.";

    private final ProblemWebExceptionHandler problems;

    ProblemAuthentication(ProblemWebExceptionHandler problems) {
        this.problems = problems;
    }

    @Override
    public Mono<Void> commence(ServerWebExchange exchange, AuthenticationException ex) {
        exchange.getResponse().getHeaders().set(HttpHeaders.WWW_AUTHENTICATE, "Bearer");
        return problems.write(exchange.getResponse(), ProblemMapper.of(ErrorCode.UNAUTHENTICATED, UNAUTHENTICATED));
    }

    @Override
    public Mono<Void> handle(ServerWebExchange exchange, AccessDeniedException denied) {
        return problems.write(exchange.getResponse(), ProblemMapper.of(ErrorCode.FORBIDDEN, FORBIDDEN));
    }
}
