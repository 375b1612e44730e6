package dev.switchboard.registry.tenant;

import dev.switchboard.platform.lifecycle.PeriodicWork;
import dev.switchboard.contracts.registry.RegistryChange;
import dev.switchboard.registry.change.ChangeLog;
import dev.switchboard.registry.config.RegistryProperties;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;

import java.time.Duration;

/**
 * Wipes previous client secrets whose grace period is over and announces each as a
 * {@code client_secret} change, so services that cached both secrets drop the old one. Reads
 * never depend on it (they compare the expiry themselves); it keeps old key material off disk and
 * caches honest.
 */
@Component
class ExpiredSecretSweeper extends PeriodicWork {

    private static final Logger log = LoggerFactory.getLogger(ExpiredSecretSweeper.class);
    private static final int BATCH = 100;

    private final TenantRepository tenants;
    private final ChangeLog changes;
    private final TransactionalOperator tx;
    private final Duration interval;
    private final Counter failures;

    ExpiredSecretSweeper(TenantRepository tenants, ChangeLog changes, TransactionalOperator tx,
                         RegistryProperties properties, MeterRegistry meters) {
        super(properties.maintenanceInterval(), properties.maintenanceInterval());
        this.tenants = tenants;
        this.changes = changes;
        this.tx = tx;
        this.interval = properties.maintenanceInterval();
        this.failures = Counter.builder("registry.maintenance.failures").tag("task", "secret_expiry")
                .description("Failed runs of a periodic maintenance task").register(meters);
    }

    /** One sweep: up to {@value #BATCH} tenants, each wiped and announced in one transaction. */
    Mono<Long> sweepOnce() {
        return tx.transactional(tenants.expirePreviousSecrets(BATCH)
                        .concatMap(tenant -> changes.record(tenant, RegistryChange.Kind.CLIENT_SECRET, null)))
                .count();
    }

    @Override
    protected Mono<?> runOnce() {
        return sweepOnce();
    }

    @Override
    protected void failed(Throwable e) {
        failures.increment();
        log.warn("Expiring previous client secrets failed; retrying in {}: {}", interval, e.toString());
    }
}
