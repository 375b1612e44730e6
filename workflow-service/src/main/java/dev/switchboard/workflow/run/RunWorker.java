package dev.switchboard.workflow.run;

import dev.switchboard.workflow.config.WorkflowProperties;
import dev.switchboard.workflow.pipeline.Pipelines;
import dev.switchboard.workflow.pipeline.Step;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * This replica's share of the work: it leases due steps (up to {@code maxConcurrentSteps} at once)
 * every {@code pollInterval}, and again as soon as one of its attempts ends (which frees a slot
 * and may have readied the steps that waited for it); runs each
 * attempt under its step's timeout while renewing the lease (three times per lease period, with
 * the tokens streamed so far); and hands the outcome to {@link RunTransitions}. A renewal that
 * finds the attempt no longer this replica's (the run was cancelled, or the lease ran out and
 * another replica took the step) stops the attempt — a model call is cancelled with it — and its
 * result is dropped. Every few seconds it publishes outbox events a dead replica left behind.
 */
@Component
class RunWorker implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(RunWorker.class);
    private static final int MAX_LEASE_BATCH = 32;
    private static final Duration SWEEP_EVERY = Duration.ofSeconds(5);

    private final String owner = "workflow-" + UUID.randomUUID().toString().substring(0, 13);
    private final RunRepository repository;
    private final RunTransitions transitions;
    private final StepExecutor executor;
    private final RunOutbox outbox;
    private final Pipelines pipelines;
    private final RunTracing tracing;
    private final WorkflowProperties.Runs settings;
    private final AtomicInteger running = new AtomicInteger();
    private final Map<RunKey, Set<Disposable>> local = new ConcurrentHashMap<>();
    private final Sinks.Many<Boolean> wake = Sinks.many().multicast().directBestEffort();
    private final Counter attempts;
    private final Counter failures;
    private final Timer stepTime;
    private volatile Disposable loop;

    RunWorker(RunRepository repository, RunTransitions transitions, StepExecutor executor, RunOutbox outbox,
              Pipelines pipelines, RunTracing tracing, WorkflowProperties properties, MeterRegistry meters) {
        this.tracing = tracing;
        this.repository = repository;
        this.transitions = transitions;
        this.executor = executor;
        this.outbox = outbox;
        this.pipelines = pipelines;
        this.settings = properties.runs();
        Gauge.builder("switchboard.workflow.steps.running", running, AtomicInteger::get)
                .description("Step attempts running on this replica").register(meters);
        this.attempts = Counter.builder("switchboard.workflow.step.attempts").description("Step attempts started on this replica")
                .register(meters);
        this.failures = Counter.builder("switchboard.workflow.step.failures").description("Step attempts that failed or timed out")
                .register(meters);
        this.stepTime = Timer.builder("switchboard.workflow.step.duration").description("How long step attempts took")
                .publishPercentileHistogram().register(meters);
    }

    /** This replica's name in leases and attempts. */
    String owner() {
        return owner;
    }

    /** Looks for due steps now rather than at the next poll. */
    void wake() {
        wake.tryEmitNext(Boolean.TRUE);
    }

    /** Stops this replica's attempts of a run at once (it was cancelled here); other replicas see it at their next renewal. */
    void stopLocal(RunKey key) {
        Set<Disposable> attempts = local.remove(key);
        if (attempts != null) {
            attempts.forEach(Disposable::dispose);
        }
    }

    @Override
    public void start() {
        long sweepTicks = Math.max(1, SWEEP_EVERY.toMillis() / Math.max(1, settings.pollInterval().toMillis()));
        AtomicInteger tick = new AtomicInteger();
        loop = Flux.merge(Flux.interval(Duration.ZERO, settings.pollInterval()).map(i -> Boolean.FALSE), wake.asFlux())
                .onBackpressureDrop()
                .concatMap(woken -> {
                    Mono<Void> sweep = tick.incrementAndGet() % sweepTicks == 0 ? outbox.sweep(SWEEP_EVERY) : Mono.empty();
                    return leaseAndStart().then(sweep).onErrorResume(e -> {
                        log.warn("Looking for due steps failed; trying again at the next poll: {}", e.toString());
                        return Mono.empty();
                    });
                }, 1)
                .subscribe();
    }

    private Mono<Void> leaseAndStart() {
        int free = settings.maxConcurrentSteps() - running.get();
        if (free <= 0) {
            return Mono.empty();
        }
        return repository.lease(owner, Math.min(free, MAX_LEASE_BATCH), settings.lease())
                .doOnNext(this::begin)
                .then();
    }

    /** Runs one leased attempt in the background; the lifecycle's stop ends what is still running. */
    private void begin(RunRepository.Leased leased) {
        running.incrementAndGet();
        attempts.increment();
        RunKey key = new RunKey(leased.tenant(), leased.run());
        Timer.Sample sample = Timer.start();
        Disposable[] handle = new Disposable[1];
        handle[0] = attempt(leased)
                .onErrorResume(e -> {
                    log.atWarn().addKeyValue("tenant", leased.tenant())
                            .log("Step {} of run {} (tenant {}) could not be recorded; its lease will run out and it will be "
                            + "taken over: {}", leased.step(), leased.run(), leased.tenant(), e.toString());
                    return Mono.empty();
                })
                .doFinally(signal -> {
                    running.decrementAndGet();
                    sample.stop(stepTime);
                    Set<Disposable> set = local.get(key);
                    if (set != null && handle[0] != null) {
                        set.remove(handle[0]);
                        local.remove(key, Set.of());
                    }
                    wake();
                })
                .subscribe();
        if (!handle[0].isDisposed()) {
            local.computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet()).add(handle[0]);
        }
    }

    private Mono<Void> attempt(RunRepository.Leased leased) {
        RunKey key = new RunKey(leased.tenant(), leased.run());
        return repository.findRun(leased.tenant(), leased.run())
                .zipWith(repository.steps(leased.tenant(), leased.run()).collectList())
                .flatMap(found -> pipelines.version(found.getT1().tenant(), found.getT1().pipeline(), found.getT1().version())
                        .map(definition -> new RunState(found.getT1(), definition, found.getT2())))
                .flatMap(state -> {
                    Step step = state.definition().step(leased.step());
                    if (leased.attempt() > step.retry().attempts()) {
                        return flushed(key, transitions.exhausted(leased, owner, state, step));
                    }
                    AtomicInteger tokens = new AtomicInteger();
                    Mono<Boolean> lost = Flux.interval(settings.lease().dividedBy(3))
                            .concatMap(i -> repository.renew(leased, owner, settings.lease(), tokens.get()))
                            .filter(held -> !held)
                            .next();
                    // The decision and its events inside the attempt's trace: the outbox's publishes are its spans too.
                    return tracing.step(state, step, leased, flushed(key, executor.execute(state, step, leased, tokens)
                            .timeout(step.timeout())
                            .takeUntilOther(lost)
                            .map(result -> (Outcome) new Outcome.Done(result))
                            .onErrorResume(e -> Mono.just(new Outcome.Failed(e)))
                            .flatMap(outcome -> {
                                if (outcome instanceof Outcome.Done done) {
                                    return transitions.complete(leased, owner, state, done.result(), tokens.get());
                                }
                                Throwable e = ((Outcome.Failed) outcome).error();
                                failures.increment();
                                boolean timeout = e instanceof TimeoutException;
                                String error = timeout ? "timed out after " + step.timeout() : describe(e);
                                boolean permanent = e instanceof StepExecutor.Permanent || e instanceof DeliveryPublisher.Refused;
                                return transitions.fail(leased, owner, state, step, timeout ? "timeout" : "failed", error,
                                        tokens.get(), permanent);
                            })));
                })
                .then();
    }

    /** The decision, once the events it wrote to the outbox are published. */
    private Mono<RunTransitions.Decision> flushed(RunKey key, Mono<RunTransitions.Decision> decision) {
        return decision.flatMap(d -> (d.enqueued() ? outbox.flush(key) : Mono.<Void>empty()).thenReturn(d));
    }

    /**
     * How an attempt ended, kept apart from recording it: a database failure while recording is not
     * the step's fault, so it is not counted as a failed attempt (the lease runs out and the step is
     * taken over).
     */
    private sealed interface Outcome {
        record Done(StepExecutor.Result result) implements Outcome {
        }

        record Failed(Throwable error) implements Outcome {
        }
    }

    private static String describe(Throwable e) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : StepExecutor.abbreviate(message);
    }

    @Override
    public void stop() {
        Disposable d = loop;
        loop = null;
        if (d != null) {
            d.dispose();
        }
        local.values().forEach(set -> set.forEach(Disposable::dispose));
        local.clear();
    }

    @Override
    public boolean isRunning() {
        Disposable d = loop;
        return d != null && !d.isDisposed();
    }
}
