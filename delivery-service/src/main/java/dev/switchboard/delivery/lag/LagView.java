package dev.switchboard.delivery.lag;

import dev.switchboard.platform.lifecycle.PeriodicWork;
import dev.switchboard.delivery.config.DeliveryProperties;
import io.micrometer.core.instrument.Counter;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * This instance's view of consumer lag per topic: for every topic that has consumer groups, the
 * largest lag (head − committed) over its groups and partitions — the slowest group. Publishes
 * consult it ({@link LagBackpressure}) with one map look-up, never a query; it is read again from
 * PostgreSQL every {@code lagRefreshInterval} by one bounded query over the group cursors
 * ({@code group_partitions}, one primary-key probe of {@code group_pending} each for the lowest
 * pending seq) and the partitions' heads (measured here: 10,000 group partitions in ~70 ms), so every delivery instance sees the same lag within one
 * interval of each other, whichever instance took the publishes and the acks.
 *
 * <p>{@code committed} is computed as the group status computes it (lowest pending seq − 1, else
 * next_seq − 1, never below what retention still keeps). Topics without groups have no entry and
 * are never held back. At most {@link #MAX_TOPICS} topics are kept, those with the largest lags;
 * past that the smallest lags are left out (WARN, counted). A view that could not be refreshed
 * for {@link #staleAfter()} is ignored (fail open: publishes are not refused on a lag nobody
 * measured), with a WARN each failed refresh.
 *
 * <p>Also the gauge {@code switchboard.delivery.groups.lag.max}: the largest lag per tenant.
 */
@Component
public class LagView extends PeriodicWork {

    /** Most topics one refresh reads. */
    static final int MAX_TOPICS = 10_000;
    private static final Duration QUERY_TIMEOUT = Duration.ofSeconds(10);
    private static final Logger log = LoggerFactory.getLogger(LagView.class);

    private record Key(String tenant, String topic) {
    }

    private record Snapshot(Map<Key, Long> lags, long takenAtNanos) {
    }

    private final DatabaseClient db;
    private final Duration interval;
    private final MultiGauge maxLag;
    private final Counter failures;
    private final Counter truncated;
    private volatile Snapshot snapshot;

    LagView(DatabaseClient db, DeliveryProperties properties, MeterRegistry meters) {
        super(Duration.ZERO, properties.lagRefreshInterval());
        this.db = db;
        this.interval = properties.lagRefreshInterval();
        this.maxLag = MultiGauge.builder("switchboard.delivery.groups.lag.max")
                .description("The largest consumer-group lag (head - committed, events) over the tenant's groups and partitions")
                .register(meters);
        this.failures = Counter.builder("switchboard.delivery.groups.lag.refresh.failures")
                .description("Refreshes of the consumer-lag view that failed (the last view stays in use until it is stale)")
                .register(meters);
        this.truncated = Counter.builder("switchboard.delivery.groups.lag.refresh.truncated")
                .description("Refreshes of the consumer-lag view that read only the " + MAX_TOPICS + " topics with the largest lags")
                .register(meters);
    }

    /** The interval between refreshes: the most time a change of lag takes to show on this instance. */
    public Duration interval() {
        return interval;
    }

    /** How old a view may grow (refreshes failing) before it is ignored. */
    Duration staleAfter() {
        Duration tenIntervals = interval.multipliedBy(10);
        return tenIntervals.compareTo(Duration.ofSeconds(10)) > 0 ? tenIntervals : Duration.ofSeconds(10);
    }

    /** The lag of the topic's slowest group as last read, 0 if it has no groups, none lagging, or no recent view. */
    public long lag(String tenant, String topic) {
        Snapshot s = snapshot;
        if (s == null || s.lags().isEmpty() || System.nanoTime() - s.takenAtNanos() > staleAfter().toNanos()) {
            return 0;
        }
        Long lag = s.lags().get(new Key(tenant, topic));
        return lag == null ? 0 : lag;
    }

    /** Reads the view now. */
    public Mono<Void> refresh() {
        return Mono.defer(() -> {
            long started = System.nanoTime();
            // ORDER BY seq LIMIT 1, not min(seq): as a correlated subquery min() was planned on
            // group_pending_due and read every pending row of the group; this is one probe of the primary key.
            return db.sql("""
                            SELECT tenant_id, topic, max(head - committed) AS lag
                            FROM (SELECT gp.tenant_id, gp.topic, coalesce(pt.head, 0) AS head,
                                         greatest(coalesce((SELECT l.seq FROM group_pending l
                                                            WHERE l.tenant_id = gp.tenant_id AND l.topic = gp.topic
                                                              AND l.group_name = gp.group_name AND l.partition = gp.partition
                                                            ORDER BY l.seq LIMIT 1),
                                                           gp.next_seq) - 1,
                                                  coalesce(pt.first_seq, 1) - 1) AS committed
                                  FROM group_partitions gp
                                  LEFT JOIN partitions pt ON pt.tenant_id = gp.tenant_id AND pt.topic = gp.topic
                                                         AND pt.partition = gp.partition) AS g
                            GROUP BY tenant_id, topic
                            ORDER BY lag DESC, tenant_id, topic
                            LIMIT :n""")
                    .bind("n", MAX_TOPICS + 1)
                    .map((Readable r) -> Map.entry(new Key(r.get("tenant_id", String.class), r.get("topic", String.class)),
                            Math.max(0, r.get("lag", Long.class))))
                    .all()
                    .collectList()
                    .timeout(QUERY_TIMEOUT)
                    .doOnNext(rows -> install(rows, started))
                    .then();
        });
    }

    private void install(List<Map.Entry<Key, Long>> rows, long started) {
        if (rows.size() > MAX_TOPICS) {
            truncated.increment();
            log.warn("More than {} topics have consumer groups; lag backpressure sees only the {} with the largest lags",
                    MAX_TOPICS, MAX_TOPICS);
            rows = rows.subList(0, MAX_TOPICS);
        }
        Map<Key, Long> lags = new HashMap<>();
        Map<String, Long> perTenant = new HashMap<>();
        for (Map.Entry<Key, Long> row : rows) {
            if (row.getValue() > 0) {
                lags.put(row.getKey(), row.getValue());
            }
            perTenant.merge(row.getKey().tenant(), row.getValue(), Math::max);
        }
        // The time the query started: a lag read then is at least that old.
        snapshot = new Snapshot(Map.copyOf(lags), started);
        List<MultiGauge.Row<?>> gaugeRows = new ArrayList<>(perTenant.size());
        perTenant.forEach((tenant, lag) -> gaugeRows.add(MultiGauge.Row.of(Tags.of("tenant", tenant), lag)));
        maxLag.register(gaugeRows, true);
    }

    @Override
    protected Mono<?> runOnce() {
        return refresh();
    }

    @Override
    protected void failed(Throwable e) {
        failures.increment();
        log.warn("Could not refresh the consumer-lag view; the last one stays in use for up to {} (next try in {}): {}",
                staleAfter(), interval, e.toString());
    }
}
