package dev.switchboard.registry.security;

import dev.switchboard.contracts.registry.KeyPrincipal;

/** Who is calling, once a bearer token has been recognised. */
public sealed interface Caller {

    /** The platform operator (admin token): may do everything on {@code /admin/v1}. */
    record Platform() implements Caller {
    }

    /** A tenant API key: only its own tenant, and only what its scopes allow. */
    record TenantKey(KeyPrincipal key) implements Caller {
    }

    /** Another Switchboard service (service token): only {@code /internal/v1}. */
    record Service() implements Caller {
    }
}
