package dev.switchboard.workflow.run;

import dev.switchboard.workflow.pipeline.PipelineDefinition;
import dev.switchboard.workflow.pipeline.Pipelines;
import dev.switchboard.workflow.pipeline.Step;
import dev.switchboard.workflow.pipeline.StepGraph;
import org.springframework.stereotype.Component;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.MissingNode;
import tools.jackson.databind.node.ObjectNode;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Every decision about a run's course, each one transaction that first locks the run's row, so
 * the decisions about one run are taken one at a time whichever replica takes them: create a run
 * (once per trigger event id), complete a step (and ready what waited for it, or end the run),
 * fail an attempt (retry after a backoff, or fail the run), cancel a run. A step's attempt counts
 * only while it is still that worker's ({@code lease_owner} and {@code attempt} match): the
 * result of a worker that lost its lease is thrown away, so each step completes once and so does
 * the run. Events these decisions publish go to the outbox in the same transaction.
 */
@Component
class RunTransitions {

    static final Duration MAX_BACKOFF = Duration.ofMinutes(10);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final RunRepository repository;
    private final TransactionalOperator tx;

    RunTransitions(RunRepository repository, TransactionalOperator tx) {
        this.repository = repository;
        this.tx = tx;
    }

    /** A run that now exists: just created, or the one its trigger event created before. */
    record Created(UUID run, String outputTopic, boolean duplicate, String pipeline, int version, String causationId) {
    }

    /** What a decision did, for the worker: whether it still held the attempt, and whether it left events in the outbox. */
    record Decision(boolean held, boolean enqueued) {
        static final Decision LOST = new Decision(false, false);
    }

    /**
     * Creates a run of a pinned version, its steps waiting or (no inputs) ready — unless the
     * pipeline already has a run for this trigger event id, which is then the answer.
     */
    Mono<Created> create(String tenant, Pipelines.Pinned pinned, String outputTopic, JsonNode trigger,
                         UUID parentRun, String parentStep) {
        return tx.transactional(insert(tenant, pinned, outputTopic, trigger, parentRun, parentStep));
    }

    private Mono<Created> insert(String tenant, Pipelines.Pinned pinned, String outputTopic, JsonNode trigger,
                                 UUID parentRun, String parentStep) {
        String causation = trigger.path("id").asString();
        UUID run = UUID.randomUUID();
        Map<String, Set<String>> needs = StepGraph.dependencies(pinned.definition().steps());
        List<String> ids = new ArrayList<>(needs.keySet());
        List<String> statuses = ids.stream().map(id -> needs.get(id).isEmpty() ? "ready" : "waiting").toList();
        return repository.insertRun(tenant, run, pinned.name(), pinned.version(), outputTopic, causation,
                        JSON.writeValueAsString(trigger), parentRun, parentStep, pinned.definition().cancelWhenUnwatched())
                .flatMap(created -> repository.insertSteps(tenant, created, ids, statuses)
                        .thenReturn(new Created(created, outputTopic, false, pinned.name(), pinned.version(), causation)))
                .switchIfEmpty(Mono.defer(() -> repository.findRunByCause(tenant, pinned.name(), causation)
                        .map(existing -> new Created(existing.run(), existing.outputTopic(), true, existing.pipeline(),
                                existing.version(), existing.causationId()))));
    }

    /** A step's attempt succeeded: record its output, ready what waited for it, end the run when nothing is left. */
    Mono<Decision> complete(RunRepository.Leased leased, String owner, RunState state, StepExecutor.Result result, int tokens) {
        String output = JSON.writeValueAsString(result.output());
        Mono<Decision> work = repository.lockRun(leased.tenant(), leased.run()).flatMap(run -> !"running".equals(run.status())
                ? Mono.just(Decision.LOST)
                : repository.finishStep(leased, owner, "completed", output, null, null).flatMap(held -> !held
                        ? Mono.just(Decision.LOST)
                        : handoff(state, leased, result)
                                .then(repository.closeAttempt(leased, "completed", null, tokens))
                                .thenMany(Flux.fromIterable(result.events()))
                                .concatMap(e -> repository.enqueue(leased.tenant(), leased.run(), e.topic(), JSON.writeValueAsString(e.event())))
                                .then(advance(state, leased.step(), !result.events().isEmpty()))));
        return tx.transactional(work);
    }

    /** A handoff's run, created with the step's completion: exactly one, however often the step is retried. */
    private Mono<Void> handoff(RunState state, RunRepository.Leased leased, StepExecutor.Result result) {
        if (result.handoff() == null) {
            return Mono.empty();
        }
        StepExecutor.Handoff h = result.handoff();
        return insert(leased.tenant(), h.pinned(), h.outputTopic(), h.trigger(), state.run(), leased.step())
                .flatMap(child -> {
                    ObjectNode output = ((ObjectNode) result.output().deepCopy()).put("run", child.run().toString());
                    return repository.setOutput(leased.tenant(), leased.run(), leased.step(), JSON.writeValueAsString(output));
                }).then();
    }

    /**
     * After a step completed: ready the steps whose inputs are all there (an aggregate of strategy
     * {@code first}: one of them), skip the inputs an aggregate of strategy {@code first} no longer
     * needs, and complete the run when every step has completed or been skipped.
     */
    private Mono<Decision> advance(RunState state, String completed, boolean enqueued) {
        PipelineDefinition definition = state.definition();
        Map<String, Set<String>> needs = StepGraph.dependencies(definition.steps());
        return repository.steps(state.tenant(), state.run()).collectList().flatMap(rows -> {
            Map<String, String> status = new HashMap<>();
            Map<String, String> outputs = new HashMap<>();
            rows.forEach(r -> {
                status.put(r.step(), r.status());
                outputs.put(r.step(), r.output());
            });
            List<String> skip = new ArrayList<>();
            if (definition.step(completed) instanceof Step.Aggregate a && a.strategy().equals("first")) {
                for (String input : a.inputs()) {
                    boolean open = Set.of("waiting", "ready", "running").contains(status.get(input));
                    boolean neededElsewhere = needs.entrySet().stream()
                            .anyMatch(e -> !e.getKey().equals(a.id()) && e.getValue().contains(input));
                    if (open && !neededElsewhere) {
                        skip.add(input);
                        status.put(input, "skipped");
                    }
                }
            }
            List<String> ready = new ArrayList<>();
            for (Step step : definition.steps()) {
                if (!"waiting".equals(status.get(step.id()))) {
                    continue;
                }
                Set<String> inputs = needs.get(step.id());
                boolean go = step instanceof Step.Aggregate a && a.strategy().equals("first")
                        ? inputs.stream().anyMatch(i -> "completed".equals(status.get(i)))
                        : inputs.stream().allMatch(i -> "completed".equals(status.get(i)));
                if (go) {
                    ready.add(step.id());
                    status.put(step.id(), "ready");
                }
            }
            boolean done = status.values().stream().allMatch(s -> s.equals("completed") || s.equals("skipped"));
            Mono<Long> finish = Mono.empty();
            if (done) {
                String answerJson = outputs.get(definition.answerStep().id());
                JsonNode answer = answerJson == null ? MissingNode.getInstance() : JSON.readTree(answerJson);
                finish = repository.finishRun(state.tenant(), state.run(), "completed", answerJson, null)
                        .then(repository.enqueue(state.tenant(), state.run(), state.outputTopic(),
                                JSON.writeValueAsString(state.events().completed(answer))));
            }
            return repository.skip(state.tenant(), state.run(), skip)
                    .then(repository.setStatus(state.tenant(), state.run(), ready, "waiting", "ready"))
                    .then(finish)
                    .thenReturn(new Decision(true, enqueued || done));
        });
    }

    /**
     * An attempt failed. With attempts left the step is ready again after its backoff (doubling each
     * time); without, or for a failure no retry can mend, the step fails and so does the run: its
     * other steps are cancelled, and the output topic gets {@code ai.retracted} for the attempt's
     * tokens, if it streamed any, then {@code ai.failed}.
     *
     * @param outcome {@code failed} or {@code timeout}
     */
    Mono<Decision> fail(RunRepository.Leased leased, String owner, RunState state, Step step, String outcome, String error,
                        int tokens, boolean permanent) {
        boolean last = permanent || leased.attempt() >= step.retry().attempts();
        Mono<Decision> work = repository.lockRun(leased.tenant(), leased.run()).flatMap(run -> {
            if (!"running".equals(run.status())) {
                return Mono.just(Decision.LOST);
            }
            if (!last) {
                Instant again = Instant.now().plus(backoff(step, leased.attempt()));
                return repository.finishStep(leased, owner, "ready", null, error, again).flatMap(held -> !held
                        ? Mono.just(Decision.LOST)
                        : repository.closeAttempt(leased, outcome, error, tokens).thenReturn(new Decision(true, false)));
            }
            String detail = "step '" + step.id() + "' failed after " + leased.attempt() + " attempt"
                    + (leased.attempt() == 1 ? "" : "s") + ": " + error;
            return repository.finishStep(leased, owner, "failed", null, error, null).flatMap(held -> !held
                    ? Mono.just(Decision.LOST)
                    : repository.closeAttempt(leased, outcome, error, tokens)
                            .then(step instanceof Step.Model && tokens > 0
                                    ? repository.enqueue(leased.tenant(), leased.run(), state.outputTopic(),
                                            JSON.writeValueAsString(state.events().retracted(step.id(), leased.attempt())))
                                    : Mono.empty())
                            .then(end(run, "failed", "step_failed", detail))
                            .thenReturn(new Decision(true, true)));
        });
        return tx.transactional(work);
    }

    /** A step that can no longer run at all (its attempts used up by workers that died): the run fails. */
    Mono<Decision> exhausted(RunRepository.Leased leased, String owner, RunState state, Step step) {
        return fail(leased, owner, state, step, "failed", "no attempt left: the last one's worker stopped before it ended",
                0, true);
    }

    /**
     * Cancels a running run: its open steps end (their workers see it at their next lease renewal,
     * this replica's at once), and the output topic gets {@code ai.failed} with {@code error}.
     *
     * @return null when this call cancelled it, else how the run had ended already; empty when there is no such run
     */
    Mono<Optional<String>> cancel(String tenant, UUID run, String error, String detail) {
        return tx.transactional(repository.lockRun(tenant, run).flatMap(row -> !"running".equals(row.status())
                ? Mono.just(Optional.of(row.status()))
                : end(row, "cancelled", error, detail).thenReturn(Optional.<String>empty())));
    }

    private Mono<Void> end(RunRepository.RunRow row, String status, String error, String detail) {
        RunEvents events = new RunEvents(row.run(), row.pipeline(), row.causationId());
        return repository.cancelOpenSteps(row.tenant(), row.run(), "the run was " + status + " (" + error + ")")
                .then(repository.finishRun(row.tenant(), row.run(), status, null, detail))
                .then(repository.enqueue(row.tenant(), row.run(), row.outputTopic(),
                        JSON.writeValueAsString(events.failed(error, detail))))
                .then();
    }

    static Duration backoff(Step step, int attempt) {
        Duration backoff = step.retry().backoff().multipliedBy(1L << Math.min(20, attempt - 1));
        return backoff.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff;
    }
}
