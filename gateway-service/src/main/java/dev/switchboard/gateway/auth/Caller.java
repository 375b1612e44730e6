package dev.switchboard.gateway.auth;

import dev.switchboard.contracts.registry.KeyPrincipal;
import dev.switchboard.contracts.registry.Scope;

/**
 * Who is calling the public edge, and what it may do. Every request acts inside {@link #tenant()}:
 * the tenant comes from the credential, never from the request, so a caller can only ever name its
 * own tenant's topics.
 */
public sealed interface Caller {

    String tenant();

    boolean mayPublish(String topic);

    boolean maySubscribe(String topic);

    /** A tenant's backend, by API key: its scopes hold for every topic of the tenant. */
    record ApiKey(KeyPrincipal key) implements Caller {
        @Override
        public String tenant() {
            return key.tenant();
        }

        @Override
        public boolean mayPublish(String topic) {
            return key.has(Scope.PUBLISH);
        }

        @Override
        public boolean maySubscribe(String topic) {
            return key.has(Scope.SUBSCRIBE);
        }
    }
}
