package dev.switchboard.contracts.registry;

import java.util.Map;

/**
 * What one gateway instance tells the registry of its open, authenticated sockets, per tenant
 * ({@code PUT /internal/v1/gateways/{gateway}/connections}). The report replaces the gateway's
 * previous one and counts until {@code ttlMs} from now, so a gateway that dies stops counting by
 * itself. The answer is {@link ConnectionTotals}: what every other live gateway reported.
 *
 * @param ttlMs  how long the report counts (a few report intervals)
 * @param counts open sockets per tenant; tenants with none may be left out
 */
public record ConnectionReport(long ttlMs, Map<String, Integer> counts) {

    public ConnectionReport {
        counts = counts == null ? Map.of() : Map.copyOf(counts);
    }

    /**
     * @param others per tenant, the sockets open on all other live gateways (tenants with none are left out)
     */
    public record ConnectionTotals(Map<String, Integer> others) {
        public ConnectionTotals {
            others = others == null ? Map.of() : Map.copyOf(others);
        }
    }
}
