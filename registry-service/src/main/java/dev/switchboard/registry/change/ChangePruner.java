package dev.switchboard.registry.change;

import dev.switchboard.platform.lifecycle.PeriodicWork;
import dev.switchboard.registry.config.RegistryProperties;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

import java.time.Duration;

/**
 * Deletes change rows older than {@code change-retention}, in batches of {@value #BATCH} (never one
 * table-wide DELETE), every {@code maintenance-interval}, moving the pruned horizon with them so the
 * feed can tell a caller that it missed changes (the reset line of {@link ChangeFeed}).
 */
@Component
class ChangePruner extends PeriodicWork {

    private static final Logger log = LoggerFactory.getLogger(ChangePruner.class);
    static final int BATCH = 1000;
    /** At most this many batches per run, so one run stays short; the next run continues. */
    static final int MAX_BATCHES_PER_RUN = 20;

    private final ChangeRepository changes;
    private final Duration retention;
    private final Duration interval;
    private final Counter pruned;
    private final Counter failures;

    ChangePruner(ChangeRepository changes, RegistryProperties properties, MeterRegistry meters) {
        super(properties.maintenanceInterval(), properties.maintenanceInterval());
        this.changes = changes;
        this.retention = properties.changeRetention();
        this.interval = properties.maintenanceInterval();
        this.pruned = Counter.builder("registry.changes.pruned").description("Change rows deleted after retention")
                .register(meters);
        this.failures = Counter.builder("registry.maintenance.failures").tag("task", "change_pruning")
                .description("Failed runs of a periodic maintenance task").register(meters);
    }

    /** One run: batches until one comes back short, or the per-run cap. */
    Mono<Long> pruneOnce() {
        return changes.prune(retention, BATCH)
                .repeat(MAX_BATCHES_PER_RUN - 1)
                .takeUntil(n -> n < BATCH)
                .reduce(0L, Long::sum)
                .doOnNext(pruned::increment);
    }

    @Override
    protected Mono<?> runOnce() {
        return pruneOnce();
    }

    @Override
    protected void failed(Throwable e) {
        failures.increment();
        log.warn("Pruning the change feed failed; retrying in {}: {}", interval, e.toString());
    }
}
