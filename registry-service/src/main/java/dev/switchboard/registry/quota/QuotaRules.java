package dev.switchboard.registry.quota;

import dev.switchboard.contracts.registry.TenantQuotas;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.registry.api.JsonBody;
import io.r2dbc.spi.Readable;

/**
 * The bounds of a tenant's quotas and how a JSON object changes them. A field that is absent keeps
 * the base value; an explicit {@code null} takes the default of {@link TenantQuotas#DEFAULT}.
 * Replacing (PUT, create) uses the defaults as base, so missing fields take defaults; a merge patch
 * uses the current quotas as base.
 */
public final class QuotaRules {

    public static final int MAX_PUBLISH_PER_SECOND = 1_000_000;
    public static final int MAX_BURST = 10_000_000;
    public static final int MAX_CONNECTIONS = 10_000_000;
    public static final int MAX_SUBSCRIPTIONS_PER_CONNECTION = 10_000;
    public static final int MAX_PAYLOAD_BYTES = 1_048_576;

    static final String[] FIELDS = {"publishPerSecond", "burst", "maxConnections", "maxSubscriptionsPerConnection",
            "maxPayloadBytes"};

    private QuotaRules() {
    }

    /** @throws SwitchboardException (400) naming the first field out of bounds */
    public static TenantQuotas merge(JsonBody body, TenantQuotas base) {
        body.allowOnly(FIELDS);
        TenantQuotas d = TenantQuotas.DEFAULT;
        int publishPerSecond = pick(body, "publishPerSecond", base.publishPerSecond(), d.publishPerSecond(), MAX_PUBLISH_PER_SECOND);
        int burst = pick(body, "burst", base.burst(), d.burst(), MAX_BURST);
        int maxConnections = pick(body, "maxConnections", base.maxConnections(), d.maxConnections(), MAX_CONNECTIONS);
        int maxSubscriptions = pick(body, "maxSubscriptionsPerConnection", base.maxSubscriptionsPerConnection(),
                d.maxSubscriptionsPerConnection(), MAX_SUBSCRIPTIONS_PER_CONNECTION);
        int maxPayloadBytes = pick(body, "maxPayloadBytes", base.maxPayloadBytes(), d.maxPayloadBytes(), MAX_PAYLOAD_BYTES);
        if (burst < publishPerSecond) {
            throw SwitchboardException.invalid(body.field("burst") + " (" + burst + ") must be at least "
                    + body.field("publishPerSecond") + " (" + publishPerSecond + ").");
        }
        return new TenantQuotas(publishPerSecond, burst, maxConnections, maxSubscriptions, maxPayloadBytes);
    }

    /** The quota columns of a {@code tenants} row. */
    public static TenantQuotas fromRow(Readable row) {
        return new TenantQuotas(
                row.get("publish_per_second", Integer.class),
                row.get("burst", Integer.class),
                row.get("max_connections", Integer.class),
                row.get("max_subscriptions_per_connection", Integer.class),
                row.get("max_payload_bytes", Integer.class));
    }

    private static int pick(JsonBody body, String name, int base, int fallback, int max) {
        if (!body.has(name)) {
            return base;
        }
        Integer value = body.intOrNull(name, 1, max);
        return value == null ? fallback : value;
    }
}
