package dev.switchboard.registry.security;

import org.springframework.http.HttpHeaders;
import org.springframework.security.core.Authentication;
import org.springframework.security.web.server.authentication.ServerAuthenticationConverter;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * {@code Authorization: Bearer <token>}. No header means anonymous (then 401 where a credential is
 * required); any other Authorization value is a malformed credential and fails as such (401).
 */
final class BearerTokenConverter implements ServerAuthenticationConverter {

    private static final String PREFIX = "bearer ";
    /** Longer than any token we issue or accept; refuse before hashing megabytes of header. */
    private static final int MAX_TOKEN_LENGTH = 512;

    @Override
    public Mono<Authentication> convert(ServerWebExchange exchange) {
        String header = exchange.getRequest().getHeaders().getFirst(HttpHeaders.AUTHORIZATION);
        if (header == null) {
            return Mono.empty();
        }
        String token = header.regionMatches(true, 0, PREFIX, 0, PREFIX.length())
                ? header.substring(PREFIX.length()).trim()
                : "";
        if (token.length() > MAX_TOKEN_LENGTH) {
            token = "";
        }
        return Mono.just(CallerAuthentication.unverified(token));
    }
}
