package dev.switchboard.contracts.registry;

import java.util.Set;

/** Who an API key is: its tenant, its id (never the secret) and its scopes. */
public record KeyPrincipal(String tenant, String keyId, Set<Scope> scopes) {
    public KeyPrincipal {
        scopes = Set.copyOf(scopes);
    }

    public boolean has(Scope scope) {
        return scopes.contains(scope);
    }
}
