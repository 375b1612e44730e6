package dev.switchboard.contracts.registry;

/** A tenant's limits, enforced by delivery (publish) and the gateway (connections). */
public record TenantQuotas(
        int publishPerSecond,
        int burst,
        int maxConnections,
        int maxSubscriptionsPerConnection,
        int maxPayloadBytes) {

    public static final TenantQuotas DEFAULT = new TenantQuotas(1000, 2000, 10_000, 100, 65_536);
}
