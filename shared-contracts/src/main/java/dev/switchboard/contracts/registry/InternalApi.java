package dev.switchboard.contracts.registry;

/**
 * Paths of registry-service's internal API, called by the other services with the service token
 * ({@code Authorization: Bearer <SWITCHBOARD_SERVICE_TOKEN>}).
 *
 * <ul>
 * <li>{@code POST /internal/v1/keys/resolve} {@link KeyResolveRequest} → {@link KeyPrincipal};
 * 401 {@code unauthenticated} for an unknown or revoked key.</li>
 * <li>{@code GET /internal/v1/tenants/{tenant}/topics/resolve?name=…} → {@link ResolvedTopic};
 * 404 {@code topic_not_found}.</li>
 * <li>{@code GET /internal/v1/tenants/{tenant}/client-secrets} → {@link ClientSecrets}.</li>
 * <li>{@code GET /internal/v1/tenants/{tenant}/quotas} → {@link TenantQuotas}.</li>
 * <li>{@code GET /internal/v1/changes?after={id}} → NDJSON stream of {@link RegistryChange},
 * replayed from {@code after} then live, a heartbeat line every few seconds.</li>
 * <li>{@code PUT /internal/v1/gateways/{gateway}/connections} {@link ConnectionReport} →
 * {@link ConnectionReport.ConnectionTotals}: a gateway's open sockets per tenant, answered with the
 * other live gateways' (the tenant's {@code maxConnections} holds across all gateways).</li>
 * <li>{@code PUT /internal/v1/changes/subscribers/{subscriber}} {@link AppliedReport} → 204: a
 * process following the change feed has applied every change up to an id; {@code DELETE} when it
 * stops. A revocation is answered only once every live subscriber has applied it.</li>
 * </ul>
 */
public final class InternalApi {
    public static final String BASE = "/internal/v1";
    public static final String RESOLVE_KEY = BASE + "/keys/resolve";
    public static final String RESOLVE_TOPIC = BASE + "/tenants/{tenant}/topics/resolve";
    public static final String CLIENT_SECRETS = BASE + "/tenants/{tenant}/client-secrets";
    public static final String QUOTAS = BASE + "/tenants/{tenant}/quotas";
    public static final String CHANGES = BASE + "/changes";
    public static final String GATEWAY_CONNECTIONS = BASE + "/gateways/{gateway}/connections";
    public static final String WATCHED_TOPICS = BASE + "/tenants/{tenant}/watched";
    public static final String DELIVERY_INSTANCE = BASE + "/delivery-instances/{instance}";
    public static final String CHANGE_SUBSCRIBER = BASE + "/changes/subscribers/{subscriber}";

    private InternalApi() {
    }
}
