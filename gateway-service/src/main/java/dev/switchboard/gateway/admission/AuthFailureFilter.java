package dev.switchboard.gateway.admission;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.platform.problem.SwitchboardException;
import org.springframework.http.server.PathContainer;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * {@link AuthFailureLimiter} for {@code /v1} (the WebSocket upgrade included): runs in the security
 * chain before authentication, so an address with too many refused credentials is answered
 * {@code 429 rate_limited} without its credential being looked at.
 */
public class AuthFailureFilter implements WebFilter {

    private final AuthFailureLimiter limiter;

    public AuthFailureFilter(AuthFailureLimiter limiter) {
        this.limiter = limiter;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        PathContainer path = exchange.getRequest().getPath().pathWithinApplication();
        if (!EdgeAdmissionFilter.PUBLIC_API.matches(path)) {
            return chain.filter(exchange);
        }
        return limiter.blocked(exchange.getRequest().getRemoteAddress())
                .<Mono<Void>>map(wait -> Mono.error(SwitchboardException.retryLater(ErrorCode.RATE_LIMITED,
                        "Too many refused credentials from this address; retry in " + Math.max(1, (wait.toMillis() + 999) / 1000) + " s.",
                        wait)))
                .orElseGet(() -> chain.filter(exchange));
    }
}
