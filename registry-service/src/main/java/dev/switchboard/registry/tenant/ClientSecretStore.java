package dev.switchboard.registry.tenant;

import dev.switchboard.contracts.names.TopicNames;
import dev.switchboard.contracts.registry.ClientSecrets;
import dev.switchboard.registry.api.Problems;
import dev.switchboard.registry.crypto.SecretCipher;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

import java.util.ArrayList;
import java.util.List;

/** Decrypted client secrets for the internal API: the current one, then the previous one while in grace. */
@Component
public class ClientSecretStore {

    private final TenantRepository tenants;
    private final SecretCipher cipher;

    ClientSecretStore(TenantRepository tenants, SecretCipher cipher) {
        this.tenants = tenants;
        this.cipher = cipher;
    }

    /** 404 not_found for an unknown or deleted tenant. */
    public Mono<ClientSecrets> secrets(String tenant) {
        if (!TopicNames.isValidTenantId(tenant)) {
            return Mono.error(Problems.tenantNotFound(tenant));
        }
        return tenants.secrets(tenant)
                .switchIfEmpty(Mono.error(() -> Problems.tenantNotFound(tenant)))
                .map(stored -> {
                    List<String> secrets = new ArrayList<>(2);
                    secrets.add(cipher.decrypt(tenant, stored.current()));
                    if (stored.previous() != null) {
                        secrets.add(cipher.decrypt(tenant, stored.previous()));
                    }
                    return new ClientSecrets(tenant, secrets);
                });
    }
}
