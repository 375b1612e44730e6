package dev.switchboard.registry.presence;

import dev.switchboard.contracts.names.TopicNames;
import dev.switchboard.contracts.registry.ConnectionReport;
import dev.switchboard.platform.problem.SwitchboardException;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The gateways' socket counts per tenant, so that a tenant's {@code maxConnections} holds across
 * every gateway instance, not per instance. Each gateway reports every few seconds; a report
 * replaces that gateway's previous one, expires by itself, and is answered with what the other
 * live gateways reported. Expired rows are removed by the reports themselves.
 */
@Service
public class GatewayConnections {

    static final Pattern GATEWAY_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    static final long MIN_TTL_MS = 1_000;
    static final long MAX_TTL_MS = 600_000;
    static final int MAX_TENANTS = 100_000;

    private final DatabaseClient db;
    private final TransactionalOperator tx;

    GatewayConnections(DatabaseClient db, TransactionalOperator tx) {
        this.db = db;
        this.tx = tx;
    }

    public Mono<ConnectionReport.ConnectionTotals> report(String gateway, ConnectionReport report) {
        return Mono.defer(() -> {
            validate(gateway, report);
            List<String> tenants = new ArrayList<>();
            List<Integer> counts = new ArrayList<>();
            report.counts().forEach((tenant, count) -> {
                if (count > 0) {
                    tenants.add(tenant);
                    counts.add(count);
                }
            });
            Mono<Void> replace = db.sql("DELETE FROM gateway_connections WHERE gateway_id = :gateway OR expires_at < now()")
                    .bind("gateway", gateway)
                    .then()
                    .then(tenants.isEmpty() ? Mono.empty() : db.sql(
                                    "INSERT INTO gateway_connections (tenant_id, gateway_id, connections, expires_at) "
                                            + "SELECT t, :gateway, c, now() + :ttl * interval '1 millisecond' "
                                            + "FROM unnest(CAST(:tenants AS text[]), CAST(:counts AS int[])) AS r(t, c)")
                            .bind("gateway", gateway)
                            .bind("ttl", report.ttlMs())
                            .bind("tenants", tenants.toArray(String[]::new))
                            .bind("counts", counts.toArray(Integer[]::new))
                            .then());
            Mono<ConnectionReport.ConnectionTotals> others = db.sql(
                            "SELECT tenant_id, sum(connections)::int AS total FROM gateway_connections "
                                    + "WHERE gateway_id <> :gateway AND expires_at >= now() GROUP BY tenant_id")
                    .bind("gateway", gateway)
                    .map(row -> Map.entry(row.get("tenant_id", String.class), row.get("total", Integer.class)))
                    .all()
                    .collectMap(Map.Entry::getKey, Map.Entry::getValue, HashMap::new)
                    .map(ConnectionReport.ConnectionTotals::new);
            List<String> watchedTenants = new ArrayList<>();
            List<String> watchedTopics = new ArrayList<>();
            report.watched().forEach((tenant, topics) -> topics.forEach(topic -> {
                watchedTenants.add(tenant);
                watchedTopics.add(topic);
            }));
            Mono<Void> watched = db.sql("DELETE FROM gateway_watched WHERE gateway_id = :gateway OR expires_at < now()")
                    .bind("gateway", gateway)
                    .then()
                    .then(watchedTopics.isEmpty() ? Mono.empty() : db.sql(
                                    "INSERT INTO gateway_watched (tenant_id, topic, gateway_id, expires_at) "
                                            + "SELECT DISTINCT t, topic, :gateway, now() + :ttl * interval '1 millisecond' "
                                            + "FROM unnest(CAST(:tenants AS text[]), CAST(:topics AS text[])) AS r(t, topic)")
                            .bind("gateway", gateway)
                            .bind("ttl", report.ttlMs())
                            .bind("tenants", watchedTenants.toArray(String[]::new))
                            .bind("topics", watchedTopics.toArray(String[]::new))
                            .then());
            return replace.then(watched).then(others).as(tx::transactional);
        });
    }

    /** Which of these topics of the tenant a socket on a live gateway subscribes to. */
    public Mono<ConnectionReport.WatchedTopics> watched(String tenant, ConnectionReport.WatchedTopics asked) {
        return Mono.defer(() -> {
            if (!TopicNames.isValidTenantId(tenant)) {
                throw SwitchboardException.invalid("Invalid tenant id.");
            }
            if (asked == null || asked.topics().size() > ConnectionReport.MAX_WATCHED_PER_TENANT
                    || !asked.topics().stream().allMatch(TopicNames::isValidTopicName)) {
                throw SwitchboardException.invalid("A body {\"topics\":[…]} of at most " + ConnectionReport.MAX_WATCHED_PER_TENANT
                        + " topic names is required.");
            }
            if (asked.topics().isEmpty()) {
                return Mono.just(new ConnectionReport.WatchedTopics(List.of()));
            }
            return db.sql("SELECT DISTINCT topic FROM gateway_watched WHERE tenant_id = :tenant AND expires_at >= now() "
                            + "AND (topic = ANY(CAST(:topics AS text[])) OR topic = :every)")
                    .bind("tenant", tenant)
                    .bind("topics", asked.topics().toArray(String[]::new))
                    .bind("every", ConnectionReport.EVERY_TOPIC)
                    .map(row -> row.get("topic", String.class))
                    .all().collectList()
                    .map(found -> new ConnectionReport.WatchedTopics(found.contains(ConnectionReport.EVERY_TOPIC)
                            ? asked.topics() : asked.topics().stream().filter(found::contains).distinct().toList()));
        });
    }

    /** The id a process reports itself under ({@code noun}: "A gateway id", …): 1 to 64 characters of [A-Za-z0-9_-]. */
    public static void requireProcessId(String id, String noun) {
        if (id == null || !GATEWAY_ID.matcher(id).matches()) {
            throw SwitchboardException.invalid(noun + " is 1 to 64 characters of [A-Za-z0-9_-].");
        }
    }

    /** How long a process's report counts: between {@value #MIN_TTL_MS} and {@value #MAX_TTL_MS} ms. */
    public static void requireTtl(long ttlMs) {
        if (ttlMs < MIN_TTL_MS || ttlMs > MAX_TTL_MS) {
            throw SwitchboardException.invalid("ttlMs must lie between " + MIN_TTL_MS + " and " + MAX_TTL_MS + ".");
        }
    }

    private static void validate(String gateway, ConnectionReport report) {
        requireProcessId(gateway, "A gateway id");
        if (report == null) {
            throw SwitchboardException.invalid("A body {\"ttlMs\":…,\"counts\":{…}} is required.");
        }
        requireTtl(report.ttlMs());
        if (report.counts().size() > MAX_TENANTS) {
            throw SwitchboardException.invalid("A report holds at most " + MAX_TENANTS + " tenants.");
        }
        report.counts().forEach((tenant, count) -> {
            if (!TopicNames.isValidTenantId(tenant)) {
                throw SwitchboardException.invalid("Invalid tenant id in counts.");
            }
            if (count == null || count < 0) {
                throw SwitchboardException.invalid("Counts are integers >= 0.");
            }
        });
        if (report.watched().size() > MAX_TENANTS) {
            throw SwitchboardException.invalid("A report holds at most " + MAX_TENANTS + " tenants.");
        }
        report.watched().forEach((tenant, topics) -> {
            if (!TopicNames.isValidTenantId(tenant) || topics == null || topics.size() > ConnectionReport.MAX_WATCHED_PER_TENANT
                    || !topics.stream().allMatch(t -> ConnectionReport.EVERY_TOPIC.equals(t) || TopicNames.isValidTopicName(t))) {
                throw SwitchboardException.invalid("watched: per tenant id at most " + ConnectionReport.MAX_WATCHED_PER_TENANT
                        + " topic names, or [\"*\"].");
            }
        });
    }
}
