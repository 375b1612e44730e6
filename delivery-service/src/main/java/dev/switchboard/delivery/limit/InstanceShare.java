package dev.switchboard.delivery.limit;

import dev.switchboard.platform.lifecycle.PeriodicWork;
import dev.switchboard.registryclient.RegistryClient;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many delivery instances share the publish rates: this instance reports itself alive to the
 * registry every {@code instanceReportInterval} (counting for {@code instanceTtl}) and learns the
 * live count from the answer. {@link PublishLimiter} holds 1/N of every rate. Until the first
 * answer, and while the registry cannot be asked, the last count stays (1 at start): a registry
 * outage neither multiplies nor starves the rates, it only stops following instances that come
 * and go.
 */
@Component
class InstanceShare extends PeriodicWork {

    private static final Logger log = LoggerFactory.getLogger(InstanceShare.class);

    private final String instance = "delivery-" + UUID.randomUUID().toString().substring(0, 13);
    private final RegistryClient registry;
    private final PublishLimiter.Settings settings;
    private final AtomicInteger live = new AtomicInteger(1);
    private final Counter failures;

    InstanceShare(RegistryClient registry, PublishLimiter.Settings settings, MeterRegistry meters) {
        super(java.time.Duration.ZERO, settings.instanceReportInterval());
        this.registry = registry;
        this.settings = settings;
        Gauge.builder("switchboard.delivery.instances.live", live, AtomicInteger::get)
                .description("Live delivery instances as this one last learned them; each holds 1/N of every publish rate")
                .register(meters);
        this.failures = Counter.builder("switchboard.delivery.instances.report.failures")
                .description("Presence reports to the registry that failed (the last instance count stays)")
                .register(meters);
    }

    /** The live delivery instances, this one included: at least 1. */
    int live() {
        return live.get();
    }

    @Override
    protected Mono<?> runOnce() {
        return registry.reportDeliveryInstance(instance, settings.instanceTtl())
                .doOnNext(n -> {
                    int before = live.getAndSet(Math.max(1, n));
                    if (before != n) {
                        log.info("{} delivery instance(s) live: this one ({}) holds 1/{} of every publish rate", n, instance, n);
                    }
                });
    }

    /**
     * Stops reporting and leaves the registry's count, so the instances that stay take the whole
     * rate at their next report instead of after this one's TTL (a rolling restart, a scale-down).
     * Asynchronous: the context's shutdown waits for it, two seconds at most.
     */
    @Override
    public void stop(Runnable callback) {
        stop();
        registry.leaveDeliveryInstance(instance)
                .timeout(java.time.Duration.ofSeconds(2))
                .doOnError(e -> log.warn("Could not tell the registry this delivery instance ({}) stops; it counts until its "
                        + "last report expires: {}", instance, e.toString()))
                .onErrorResume(e -> Mono.empty())
                .doFinally(signal -> callback.run())
                .subscribe();
    }

    @Override
    protected void failed(Throwable error) {
        failures.increment();
        log.warn("Could not report this delivery instance to the registry; keeping 1/{} of every publish rate: {}",
                live.get(), error.toString());
    }
}
