package dev.switchboard.delivery.group;

import dev.switchboard.platform.lifecycle.PeriodicWork;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.r2dbc.spi.Readable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.List;

/**
 * {@code switchboard.delivery.groups.in.flight}: live leases per tenant, over every group of every
 * instance, read from PostgreSQL every {@link #INTERVAL}. The count reads only the pending rows
 * (what is leased, delayed or waiting), never the log.
 */
@Component
public class GroupGauges extends PeriodicWork {

    static final Duration INTERVAL = Duration.ofSeconds(10);
    private static final Logger log = LoggerFactory.getLogger(GroupGauges.class);

    private final DatabaseClient db;
    private final MultiGauge inFlight;

    GroupGauges(DatabaseClient db, MeterRegistry meters) {
        super(Duration.ZERO, INTERVAL);
        this.db = db;
        this.inFlight = MultiGauge.builder("switchboard.delivery.groups.in.flight")
                .description("Events leased to consumer-group consumers and not yet acked, nacked or expired, by tenant")
                .register(meters);
    }

    /** Reads the counts now. */
    public Mono<Void> refresh() {
        return db.sql("""
                        SELECT tenant_id, count(*) AS n FROM group_pending WHERE lease_until > now()
                        GROUP BY tenant_id ORDER BY tenant_id LIMIT 10000""")
                .map((Readable r) -> MultiGauge.Row.of(Tags.of("tenant", r.get("tenant_id", String.class)),
                        r.get("n", Number.class).doubleValue()))
                .all()
                .collectList()
                .doOnNext(rows -> inFlight.register(List.copyOf(rows), true))
                .then();
    }

    @Override
    protected Mono<?> runOnce() {
        return refresh();
    }

    @Override
    protected void failed(Throwable e) {
        log.warn("Could not count consumer-group leases; next try in {}: {}", INTERVAL, e.toString());
    }
}
