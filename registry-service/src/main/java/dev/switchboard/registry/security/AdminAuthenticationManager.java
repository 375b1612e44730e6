package dev.switchboard.registry.security;

import dev.switchboard.registry.key.KeyResolver;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.authentication.ReactiveAuthenticationManager;
import org.springframework.security.core.Authentication;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * The credentials of {@code /admin/v1}: the platform admin token, or a live tenant API key looked
 * up by its hash on every request (so a revoked key fails on the very next one). The service
 * token is not one of them.
 */
@Component
class AdminAuthenticationManager implements ReactiveAuthenticationManager {

    private final PlatformTokens tokens;
    private final KeyResolver keys;

    AdminAuthenticationManager(PlatformTokens tokens, KeyResolver keys) {
        this.tokens = tokens;
        this.keys = keys;
    }

    @Override
    public Mono<Authentication> authenticate(Authentication authentication) {
        String token = ((CallerAuthentication) authentication).token();
        if (tokens.isAdmin(token)) {
            return Mono.just(CallerAuthentication.of(new Caller.Platform()));
        }
        return keys.resolve(token)
                .<Authentication>map(key -> CallerAuthentication.of(new Caller.TenantKey(key)))
                .switchIfEmpty(Mono.error(() -> new BadCredentialsException("unknown credential")));
    }
}
