package dev.switchboard.workflow.run;

import dev.switchboard.contracts.registry.ConnectionReport;
import dev.switchboard.contracts.registry.InternalApi;
import dev.switchboard.platform.lifecycle.PeriodicWork;
import dev.switchboard.workflow.config.WorkflowProperties;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Cost control by presence ({@code cancelWhenUnwatched}): every {@code watchInterval}, the running
 * runs that have the limit ask the registry, a tenant at a time, which of their output topics a
 * socket on some gateway subscribes to (the gateways report it with their socket counts). A
 * watched run's clock is reset; a run unwatched for longer than its limit is cancelled with
 * {@code ai.failed} error {@code unwatched}, and its model calls stop. When the registry cannot be
 * asked nothing is cancelled: a registry outage must not end runs people are reading.
 */
@Component
class UnwatchedRuns extends PeriodicWork {

    private static final Logger log = LoggerFactory.getLogger(UnwatchedRuns.class);
    static final int PAGE = 1000;
    private static final Duration ASK_TIMEOUT = Duration.ofSeconds(5);

    private final RunRepository repository;
    private final Runs runs;
    private final WebClient registry;
    private final Counter cancelled;

    UnwatchedRuns(RunRepository repository, Runs runs, ServiceClients clients, WorkflowProperties properties, MeterRegistry meters) {
        super(properties.runs().watchInterval(), properties.runs().watchInterval());
        this.repository = repository;
        this.runs = runs;
        this.registry = clients.registry();
        this.cancelled = Counter.builder("switchboard.workflow.runs.unwatched")
                .description("Runs cancelled because nobody watched their output topic").register(meters);
    }

    @Override
    protected Mono<?> runOnce() {
        return repository.watchedRuns(PAGE).collectList().flatMapMany(found -> {
            Map<String, List<RunRepository.Watched>> byTenant = new LinkedHashMap<>();
            found.forEach(w -> byTenant.computeIfAbsent(w.tenant(), t -> new ArrayList<>()).add(w));
            return Flux.fromIterable(byTenant.entrySet());
        }).concatMap(tenant -> check(tenant.getKey(), tenant.getValue())).then();
    }

    private Mono<Void> check(String tenant, List<RunRepository.Watched> tenantRuns) {
        List<String> topics = tenantRuns.stream().map(RunRepository.Watched::outputTopic).distinct().toList();
        return registry.post().uri(InternalApi.WATCHED_TOPICS, tenant).bodyValue(new ConnectionReport.WatchedTopics(topics))
                .retrieve().bodyToMono(ConnectionReport.WatchedTopics.class)
                .timeout(ASK_TIMEOUT)
                .flatMap(answer -> {
                    Set<String> watched = new HashSet<>(answer.topics());
                    List<UUID> seen = tenantRuns.stream().filter(w -> watched.contains(w.outputTopic())).map(RunRepository.Watched::run).toList();
                    List<RunRepository.Watched> gone = tenantRuns.stream().filter(w -> !watched.contains(w.outputTopic()) && w.overdue()).toList();
                    return repository.markWatched(tenant, seen)
                            .thenMany(Flux.fromIterable(gone))
                            .concatMap(w -> runs.end(new RunKey(tenant, w.run()), "unwatched",
                                    "nobody subscribed to " + w.outputTopic() + " for longer than the pipeline's cancelWhenUnwatched")
                                    .doOnNext(ended -> {
                                        if (ended) {
                                            cancelled.increment();
                                        }
                                    }))
                            .then();
                })
                .onErrorResume(e -> {
                    log.atWarn().addKeyValue("tenant", tenant)
                            .log("Could not learn from the registry which output topics of tenant {} are watched; nothing is "
                            + "cancelled for it until then: {}", tenant, e.toString());
                    return Mono.empty();
                });
    }

    @Override
    protected void failed(Throwable error) {
        log.warn("Checking the runs with cancelWhenUnwatched failed; trying again: {}", error.toString());
    }
}
