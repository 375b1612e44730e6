package dev.switchboard.contracts.registry;

import java.util.List;

/**
 * The HMAC keys that may have signed a tenant's browser JWTs: the current client secret first,
 * then the previous one while its rotation grace period lasts.
 */
public record ClientSecrets(String tenant, List<String> secrets) {
    public ClientSecrets {
        secrets = List.copyOf(secrets);
    }
}
