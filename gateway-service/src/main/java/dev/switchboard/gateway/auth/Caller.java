package dev.switchboard.gateway.auth;

import dev.switchboard.contracts.registry.KeyPrincipal;
import dev.switchboard.contracts.registry.Scope;
import dev.switchboard.contracts.names.TopicPattern;

import java.time.Instant;
import java.util.List;

/**
 * Who is calling the public edge, and what it may do. Every request acts inside {@link #tenant()}:
 * the tenant comes from the credential, never from the request, so a caller can only ever name its
 * own tenant's topics.
 */
public sealed interface Caller {

    String tenant();

    boolean mayPublish(String topic);

    boolean maySubscribe(String topic);

    /** May manage the tenant's pipelines ({@code /v1/pipelines}): an API key with scope {@code admin}, never a browser. */
    boolean mayAdminister();

    /** May start and cancel runs ({@code POST /v1/pipelines/{name}/runs}, {@code POST /v1/runs/{run}/cancel}): an API key with scope publish or admin. */
    default boolean mayStartRuns() {
        return false;
    }

    /** May read runs ({@code GET /v1/runs/{run}}): an API key with scope subscribe, publish or admin. */
    default boolean mayReadRuns() {
        return false;
    }

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

        @Override
        public boolean mayAdminister() {
            return key.has(Scope.ADMIN);
        }

        @Override
        public boolean mayStartRuns() {
            return key.has(Scope.PUBLISH) || key.has(Scope.ADMIN);
        }

        @Override
        public boolean mayReadRuns() {
            return mayStartRuns() || key.has(Scope.SUBSCRIBE);
        }
    }

    /**
     * A browser, by a JWT signed with its tenant's client secret: it may subscribe to and publish on
     * the topics its {@code subscribe} / {@code publish} claims' patterns match, nothing else, and
     * only until {@code expiresAt} (the token's {@code exp} plus the allowed clock skew): a socket or
     * a stream it opened ends then.
     */
    record Jwt(String tenant, String subject, List<TopicPattern> subscribe, List<TopicPattern> publish,
               Instant expiresAt) implements Caller {
        public Jwt {
            subscribe = List.copyOf(subscribe);
            publish = List.copyOf(publish);
        }

        @Override
        public boolean mayPublish(String topic) {
            return publish.stream().anyMatch(p -> p.matches(topic));
        }

        @Override
        public boolean maySubscribe(String topic) {
            return subscribe.stream().anyMatch(p -> p.matches(topic));
        }

        @Override
        public boolean mayAdminister() {
            return false;
        }
    }
}
