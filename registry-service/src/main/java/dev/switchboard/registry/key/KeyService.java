package dev.switchboard.registry.key;

import dev.switchboard.contracts.registry.RegistryChange;
import dev.switchboard.contracts.registry.Scope;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.registry.api.JsonBody;
import dev.switchboard.registry.api.Page;
import dev.switchboard.registry.api.PageRequest;
import dev.switchboard.registry.api.Problems;
import dev.switchboard.registry.change.ChangeBarrier;
import dev.switchboard.registry.change.ChangeLog;
import dev.switchboard.registry.config.RegistryProperties;
import dev.switchboard.registry.crypto.ApiKeys;
import dev.switchboard.registry.tenant.TenantDirectory;
import org.springframework.stereotype.Service;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;

import java.util.List;
import java.util.TreeSet;
import java.util.regex.Pattern;

/** A tenant's API keys: created with the key shown once, listed without secrets, revoked. */
@Service
class KeyService {

    /** What {@link ApiKeys#newKeyId()} produces. */
    static final Pattern KEY_ID = Pattern.compile("key_[A-Za-z0-9_-]{12}");

    private final KeyRepository keys;
    private final TenantDirectory tenants;
    private final ChangeLog changes;
    private final ChangeBarrier barrier;
    private final TransactionalOperator tx;
    private final int maxPageSize;

    KeyService(KeyRepository keys, TenantDirectory tenants, ChangeLog changes, ChangeBarrier barrier,
               TransactionalOperator tx, RegistryProperties properties) {
        this.keys = keys;
        this.tenants = tenants;
        this.changes = changes;
        this.barrier = barrier;
        this.tx = tx;
        this.maxPageSize = properties.maxPageSize();
    }

    Mono<KeyResponse> create(String tenant, JsonBody body) {
        body.allowOnly("name", "scopes");
        String name = body.requiredDisplayName("name");
        List<Scope> scopes = scopes(body);
        String id = ApiKeys.newKeyId();
        String key = ApiKeys.newKey(id);
        Mono<KeyResponse> work = tenants.lockLive(tenant)
                .then(keys.insert(tenant, id, name, scopes, ApiKeys.hash(key)))
                .flatMap(row -> changes.record(tenant, RegistryChange.Kind.KEY, id).thenReturn(KeyResponse.created(row, key)));
        return tx.transactional(work);
    }

    Mono<Page<KeyResponse>> list(String tenant, String limit, String cursor) {
        return tenants.requireLive(tenant)
                .then(Mono.fromCallable(() -> PageRequest.parse(limit, cursor, maxPageSize, id -> KEY_ID.matcher(id).matches())))
                .flatMap(page -> keys.page(tenant, page.after(), page.fetch()).collectList()
                        .map(rows -> page.page(rows, KeyRow::id, KeyResponse::of)));
    }

    /**
     * Revokes the key: it fails on the registry at once; the change feed tells the other services, and
     * the answer waits until they all have applied it ({@link ChangeBarrier}).
     */
    Mono<Void> revoke(String tenant, String id) {
        Mono<Long> work = tenants.lockLive(tenant)
                .then(KEY_ID.matcher(id).matches() ? keys.delete(tenant, id) : Mono.just(false))
                .flatMap(deleted -> deleted
                        ? changes.record(tenant, RegistryChange.Kind.KEY, id)
                        : Mono.error(SwitchboardException.notFound("API key '" + Problems.shorten(id) + "' not found.")));
        return tx.transactional(work).flatMap(barrier::applied);
    }

    private static List<Scope> scopes(JsonBody body) {
        List<String> wire = body.stringListOrNull("scopes");
        if (wire == null || wire.isEmpty()) {
            throw SwitchboardException.invalid("scopes is required: a non-empty array of \"publish\", \"subscribe\", \"admin\".");
        }
        TreeSet<Scope> scopes = new TreeSet<>();
        for (String s : wire) {
            try {
                scopes.add(Scope.fromWire(s));
            } catch (IllegalArgumentException e) {
                throw SwitchboardException.invalid("scopes may hold only \"publish\", \"subscribe\" and \"admin\", got \""
                        + Problems.shorten(s) + "\".");
            }
        }
        return List.copyOf(scopes);
    }
}
