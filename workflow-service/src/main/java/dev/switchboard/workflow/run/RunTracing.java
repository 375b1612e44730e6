package dev.switchboard.workflow.run;

import dev.switchboard.workflow.pipeline.Step;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.contextpropagation.ObservationThreadLocalAccessor;
import io.micrometer.observation.transport.Kind;
import io.micrometer.observation.transport.ReceiverContext;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.handler.TracingObservationHandler;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

import java.util.Map;

/**
 * One trace from the event that triggered a run to the tokens it streams: each step attempt is an
 * observation ({@code switchboard.workflow.step}) whose parent is the trigger event's
 * {@code traceparent} (for a run started over REST, the request's trace), so the attempt's calls —
 * the model, the token publishes to delivery (whose events then carry the trace as their own
 * {@code traceparent}), a webhook — are spans of the trace the trigger's publish began. With
 * tracing off ({@code SWITCHBOARD_OTLP_ENDPOINT} unset) the observations only time the steps, tagged
 * by step type.
 */
@Component
class RunTracing {

    static final String STEP = "switchboard.workflow.step";

    private final ObservationRegistry registry;

    RunTracing(ObjectProvider<ObservationRegistry> registry) {
        this.registry = registry.getIfAvailable(() -> ObservationRegistry.NOOP);
    }

    /** {@code work} inside the step attempt's observation, a child of the run's trigger trace. */
    <T> Mono<T> step(RunState state, Step step, RunRepository.Leased leased, Mono<T> work) {
        String traceparent = state.trigger().path("traceparent").isString() ? state.trigger().path("traceparent").asString() : null;
        return Mono.defer(() -> {
            ReceiverContext<Map<String, String>> context = new ReceiverContext<>((carrier, key) -> carrier.get(key), Kind.CONSUMER);
            context.setCarrier(traceparent == null ? Map.of() : Map.of("traceparent", traceparent));
            Observation observation = Observation.createNotStarted(STEP, () -> context, registry)
                    .contextualName(step.type() + " step")
                    .lowCardinalityKeyValue("step.type", step.type())
                    .highCardinalityKeyValue("run", state.run().toString())
                    .highCardinalityKeyValue("step", step.id())
                    .highCardinalityKeyValue("attempt", Integer.toString(leased.attempt()))
                    .start();
            return work.contextWrite(c -> c.put(ObservationThreadLocalAccessor.KEY, observation))
                    .doOnError(observation::error)
                    .doFinally(signal -> observation.stop());
        });
    }

    /** The W3C traceparent of the request being served (its server observation's span), or null when tracing is off. */
    static String current(reactor.util.context.ContextView reactor) {
        Object value = reactor.getOrDefault(ObservationThreadLocalAccessor.KEY, null);
        if (!(value instanceof Observation observation)) {
            return null;
        }
        TracingObservationHandler.TracingContext tracing = observation.getContextView().get(TracingObservationHandler.TracingContext.class);
        Span span = tracing == null ? null : tracing.getSpan();
        if (span == null || span.isNoop() || span.context().traceId().isEmpty()) {
            return null;
        }
        boolean sampled = Boolean.TRUE.equals(span.context().sampled());
        return "00-" + span.context().traceId() + "-" + span.context().spanId() + "-" + (sampled ? "01" : "00");
    }
}
