package dev.switchboard.registry.tenant;

import dev.switchboard.contracts.names.TopicNames;
import dev.switchboard.contracts.registry.RegistryChange;
import dev.switchboard.contracts.registry.TenantQuotas;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.registry.api.JsonBody;
import dev.switchboard.registry.api.Page;
import dev.switchboard.registry.api.PageRequest;
import dev.switchboard.registry.api.Problems;
import dev.switchboard.registry.change.ChangeBarrier;
import dev.switchboard.registry.change.ChangeLog;
import dev.switchboard.registry.config.RegistryProperties;
import dev.switchboard.registry.crypto.ApiKeys;
import dev.switchboard.registry.crypto.SecretCipher;
import dev.switchboard.registry.quota.QuotaRules;
import org.springframework.stereotype.Service;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;

import java.time.Duration;

/**
 * Tenants: creation with a client secret (shown once, stored AES-GCM encrypted), listing, merge
 * patches, rotation of the client secret with a grace period, and deletion.
 *
 * <p><b>Deletion retires the id forever.</b> A deleted tenant keeps its row with {@code deleted_at}
 * set and its secrets wiped; its API keys and topic declarations are removed in the same
 * transaction. Creating a tenant with a retired id is a {@code 409 conflict}, like any taken id:
 * events stored elsewhere under that id can never surface under a new owner.
 */
@Service
class TenantService {

    private final TenantRepository tenants;
    private final SecretCipher cipher;
    private final ChangeLog changes;
    private final ChangeBarrier barrier;
    private final TransactionalOperator tx;
    private final Duration grace;
    private final int maxPageSize;

    TenantService(TenantRepository tenants, SecretCipher cipher, ChangeLog changes, ChangeBarrier barrier,
                  TransactionalOperator tx, RegistryProperties properties) {
        this.tenants = tenants;
        this.cipher = cipher;
        this.changes = changes;
        this.barrier = barrier;
        this.tx = tx;
        this.grace = properties.clientSecretGrace();
        this.maxPageSize = properties.maxPageSize();
    }

    Mono<TenantResponse> create(JsonBody body) {
        body.allowOnly("id", "name", "quotas");
        String id = body.stringOrNull("id");
        if (id == null) {
            throw SwitchboardException.invalid("id is required.");
        }
        if (!TopicNames.isValidTenantId(id)) {
            throw SwitchboardException.invalid("id must match [a-z0-9][a-z0-9_-]* and be at most "
                    + TopicNames.MAX_TENANT_ID_LENGTH + " characters, got \"" + Problems.shorten(id) + "\".");
        }
        String name = body.requiredDisplayName("name");
        JsonBody quotaBody = body.objectOrNull("quotas");
        TenantQuotas quotas = quotaBody == null ? TenantQuotas.DEFAULT : QuotaRules.merge(quotaBody, TenantQuotas.DEFAULT);
        String secret = ApiKeys.random(32);
        Mono<TenantResponse> work = tenants.insert(id, name, cipher.encrypt(id, secret), quotas)
                .switchIfEmpty(Mono.error(() -> SwitchboardException.conflict("Tenant id '" + id
                        + "' is taken; ids are never reused, not even after the tenant was deleted.")))
                .flatMap(row -> changes.record(id, RegistryChange.Kind.TENANT, null)
                        .thenReturn(TenantResponse.created(row, secret)));
        return tx.transactional(work);
    }

    Mono<Page<TenantResponse>> list(String limit, String cursor) {
        return Mono.fromCallable(() -> PageRequest.parse(limit, cursor, maxPageSize, TopicNames::isValidTenantId))
                .flatMap(page -> tenants.page(page.after(), page.fetch()).collectList()
                        .map(rows -> page.page(rows, TenantRow::id, TenantResponse::of)));
    }

    Mono<TenantResponse> get(String id) {
        return live(id).map(TenantResponse::of);
    }

    /**
     * RFC 7396 merge patch of {@code name} and {@code quotas}: absent fields stay as they are; a
     * quota set to {@code null} goes back to its default; {@code "quotas": null} resets all of them.
     */
    Mono<TenantResponse> patch(String id, JsonBody body) {
        body.allowOnly("name", "quotas");
        if (body.has("name") && body.stringOrNull("name") == null) {
            throw SwitchboardException.invalid("name cannot be removed; send a new name instead.");
        }
        String newName = body.displayNameOrNull("name");
        boolean quotasPresent = body.has("quotas");
        JsonBody quotaPatch = body.objectOrNull("quotas");
        if (!TopicNames.isValidTenantId(id)) {
            return Mono.error(Problems.tenantNotFound(id));
        }
        Mono<TenantResponse> work = tenants.lock(id)
                .switchIfEmpty(Mono.error(() -> Problems.tenantNotFound(id)))
                .flatMap(current -> {
                    String name = newName == null ? current.name() : newName;
                    TenantQuotas quotas = !quotasPresent ? current.quotas()
                            : quotaPatch == null ? TenantQuotas.DEFAULT
                            : QuotaRules.merge(quotaPatch, current.quotas());
                    boolean nameChanged = !name.equals(current.name());
                    boolean quotasChanged = !quotas.equals(current.quotas());
                    if (!nameChanged && !quotasChanged) {
                        return Mono.just(TenantResponse.of(current));
                    }
                    return tenants.update(id, name, quotas)
                            .flatMap(updated -> (nameChanged ? changes.record(id, RegistryChange.Kind.TENANT, null) : Mono.<Long>empty())
                                    .then(quotasChanged ? changes.record(id, RegistryChange.Kind.QUOTAS, null) : Mono.<Long>empty())
                                    .thenReturn(TenantResponse.of(updated)));
                });
        return tx.transactional(work);
    }

    /**
     * Soft-deletes the tenant (id retired forever, secrets wiped) and hard-deletes its keys and topics;
     * answered once every service following the change feed has applied it ({@link ChangeBarrier}).
     */
    Mono<Void> delete(String id) {
        if (!TopicNames.isValidTenantId(id)) {
            return Mono.error(Problems.tenantNotFound(id));
        }
        Mono<Long> work = tenants.softDelete(id)
                .flatMap(deleted -> deleted
                        ? tenants.deleteKeys(id).then(tenants.deleteTopics(id))
                                .then(changes.record(id, RegistryChange.Kind.TENANT, null))
                        : Mono.error(Problems.tenantNotFound(id)));
        return tx.transactional(work).flatMap(barrier::applied);
    }

    /**
     * A new client secret; the previous one keeps verifying for {@code client-secret-grace}. A second
     * rotation within the grace period replaces the previous secret: only the last two exist.
     */
    Mono<ClientSecretResponse> rotateClientSecret(String id) {
        if (!TopicNames.isValidTenantId(id)) {
            return Mono.error(Problems.tenantNotFound(id));
        }
        String secret = ApiKeys.random(32);
        Mono<ClientSecretResponse> work = tenants.rotate(id, cipher.encrypt(id, secret), grace)
                .switchIfEmpty(Mono.error(() -> Problems.tenantNotFound(id)))
                .flatMap(validUntil -> changes.record(id, RegistryChange.Kind.CLIENT_SECRET, null)
                        .thenReturn(new ClientSecretResponse(secret, validUntil)));
        return tx.transactional(work);
    }

    private Mono<TenantRow> live(String id) {
        if (!TopicNames.isValidTenantId(id)) {
            return Mono.error(Problems.tenantNotFound(id));
        }
        return tenants.find(id).switchIfEmpty(Mono.error(() -> Problems.tenantNotFound(id)));
    }
}
