package dev.switchboard.contracts.registry;

import java.util.List;
import java.util.Map;

/**
 * What one gateway instance tells the registry of its open, authenticated sockets, per tenant
 * ({@code PUT /internal/v1/gateways/{gateway}/connections}). The report replaces the gateway's
 * previous one and counts until {@code ttlMs} from now, so a gateway that dies stops counting by
 * itself. The answer is {@link ConnectionTotals}: what every other live gateway reported.
 *
 * @param ttlMs   how long the report counts (a few report intervals)
 * @param counts  open sockets per tenant; tenants with none may be left out
 * @param watched per tenant, the topics its sockets on this gateway subscribe to (at most
 *                {@value #MAX_WATCHED_PER_TENANT}; a tenant with more is reported as {@code ["*"]}: every
 *                topic of it counts as watched). Workflow runs with {@code cancelWhenUnwatched} ask for them.
 */
public record ConnectionReport(long ttlMs, Map<String, Integer> counts, Map<String, List<String>> watched) {

    /** The most topics reported for one tenant; beyond them the tenant is {@value #EVERY_TOPIC}. */
    public static final int MAX_WATCHED_PER_TENANT = 1000;
    /** Stands for every topic of a tenant that watches too many to list. */
    public static final String EVERY_TOPIC = "*";

    public ConnectionReport {
        counts = counts == null ? Map.of() : Map.copyOf(counts);
        watched = watched == null ? Map.of() : Map.copyOf(watched);
    }

    public ConnectionReport(long ttlMs, Map<String, Integer> counts) {
        this(ttlMs, counts, Map.of());
    }

    /**
     * Which of some topics of a tenant a socket on a live gateway subscribes to
     * ({@code POST /internal/v1/tenants/{tenant}/watched}).
     *
     * @param topics the topics asked about (at most {@value #MAX_WATCHED_PER_TENANT}); in the answer, those watched
     */
    public record WatchedTopics(List<String> topics) {
        public WatchedTopics {
            topics = topics == null ? List.of() : List.copyOf(topics);
        }
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
