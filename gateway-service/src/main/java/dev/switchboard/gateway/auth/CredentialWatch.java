package dev.switchboard.gateway.auth;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.registry.RegistryChange;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.registryclient.CachingRegistryClient;
import dev.switchboard.registryclient.RegistryClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;

/**
 * Tells a long-lived request (a Server-Sent Events stream) when the credential it was opened with
 * stops authenticating: the registry's change feed reports every change of a tenant, its keys and
 * its client secrets within a second, and invalidates the cache before it reports; each change
 * that concerns the credential is followed by checking it again, past the invalidated cache. An API key that was
 * revoked or a tenant that was deleted thus ends its streams within about a second, as it ends the
 * tenant's sockets ({@code Sessions}).
 */
@Component
public class CredentialWatch {

    private final RegistryClient registry;
    private final ClientTokens tokens;

    CredentialWatch(RegistryClient registry, ClientTokens tokens) {
        this.registry = registry;
        this.tokens = tokens;
    }

    /**
     * Completes when the bearer token of {@code authorization}, which authenticated {@code caller}, no
     * longer does; never while it does.
     */
    public Mono<Void> revoked(Caller caller, String authorization) {
        String token = BearerToken.parse(authorization);
        if (token == null) {
            return Mono.never();
        }
        return Flux.defer(registry::changes)
                .filter(change -> concerns(change, caller))
                // The feed fails a subscriber that fell behind: it has missed changes, so check, then follow again.
                .onErrorResume(e -> Mono.just(new RegistryChange(0, RegistryChange.Kind.TENANT, caller.tenant(), null, null)))
                .repeatWhen(done -> done.concatMap(n -> Mono.delay(Duration.ofMillis(500))))
                // Changes that come during a check fold into one more check.
                .onBackpressureLatest()
                .concatMap(change -> stillAuthenticates(caller, token), 1)
                .filter(ok -> !ok)
                .next()
                .then();
    }

    private static boolean concerns(RegistryChange change, Caller caller) {
        boolean tenant = caller.tenant().equals(change.tenant()) || CachingRegistryClient.RESET_TENANT.equals(change.tenant());
        if (!tenant) {
            return false;
        }
        return switch (change.kind()) {
            case TENANT -> true;
            case KEY -> caller instanceof Caller.ApiKey key && (change.ref() == null || change.ref().equals(key.key().keyId()));
            case CLIENT_SECRET -> caller instanceof Caller.Jwt;
            default -> false;
        };
    }

    private Mono<Boolean> stillAuthenticates(Caller caller, String token) {
        Mono<?> check = caller instanceof Caller.ApiKey ? registry.resolveKey(token) : tokens.verify(token);
        return check.map(ok -> true)
                .defaultIfEmpty(false)
                // Only a refusal ends the stream; a registry that cannot be asked right now does not.
                .onErrorResume(e -> Mono.just(!(e instanceof SwitchboardException s && s.code() == ErrorCode.UNAUTHENTICATED)));
    }
}
