package dev.switchboard.registry.presence;

import dev.switchboard.contracts.registry.InstanceReport;
import dev.switchboard.platform.problem.SwitchboardException;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;

/**
 * The live delivery-service instances, so that each can enforce an honest share of every publish
 * rate: with N live instances behind one balancer, each holds 1/N of a tenant's and a topic's rate,
 * and the sum holds the configured rate. Each instance reports every couple of seconds; a report
 * replaces its previous one, expires by itself, and is answered with the live count. Expired rows
 * are removed by the reports themselves.
 */
@Service
public class DeliveryInstances {

    private final DatabaseClient db;
    private final TransactionalOperator tx;

    DeliveryInstances(DatabaseClient db, TransactionalOperator tx) {
        this.db = db;
        this.tx = tx;
    }

    public Mono<InstanceReport.LiveInstances> report(String instance, InstanceReport report) {
        return Mono.defer(() -> {
            validate(instance, report);
            Mono<Void> upsert = db.sql("DELETE FROM delivery_instances WHERE expires_at < now()").then()
                    .then(db.sql("INSERT INTO delivery_instances (instance_id, expires_at) "
                                    + "VALUES (:instance, now() + :ttl * interval '1 millisecond') "
                                    + "ON CONFLICT (instance_id) DO UPDATE SET expires_at = EXCLUDED.expires_at")
                            .bind("instance", instance)
                            .bind("ttl", report.ttlMs())
                            .then());
            Mono<InstanceReport.LiveInstances> live = db.sql("SELECT count(*)::int AS live FROM delivery_instances WHERE expires_at >= now()")
                    .map(row -> new InstanceReport.LiveInstances(Math.max(1, row.get("live", Integer.class))))
                    .one();
            return upsert.then(live).as(tx::transactional);
        });
    }

    /** An instance that stops says so: it no longer counts, at once rather than when its last report expires. */
    public Mono<Void> leave(String instance) {
        return Mono.defer(() -> {
            GatewayConnections.requireProcessId(instance, "An instance id");
            return db.sql("DELETE FROM delivery_instances WHERE instance_id = :instance").bind("instance", instance).then();
        });
    }

    private static void validate(String instance, InstanceReport report) {
        GatewayConnections.requireProcessId(instance, "An instance id");
        if (report == null) {
            throw SwitchboardException.invalid("A body {\"ttlMs\":…} is required.");
        }
        GatewayConnections.requireTtl(report.ttlMs());
    }
}
