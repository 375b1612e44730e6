package dev.switchboard.registry.key;

import dev.switchboard.contracts.registry.KeyPrincipal;
import dev.switchboard.registry.crypto.ApiKeys;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Who an API key is, from its SHA-256; read from the database every time, so a revoked key or a
 * deleted tenant's key fails on the very next request.
 */
@Component
public class KeyResolver {

    private final KeyRepository keys;

    KeyResolver(KeyRepository keys) {
        this.keys = keys;
    }

    /** Empty for anything that is not a live key. */
    public Mono<KeyPrincipal> resolve(String key) {
        if (!ApiKeys.looksLikeKey(key)) {
            return Mono.empty();
        }
        return keys.findLive(ApiKeys.hash(key))
                .filter(principal -> key.startsWith(ApiKeys.PREFIX + principal.keyId() + "_"));
    }
}
