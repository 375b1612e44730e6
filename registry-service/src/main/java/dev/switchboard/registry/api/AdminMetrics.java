package dev.switchboard.registry.api;

import dev.switchboard.platform.problem.SwitchboardException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebInputException;
import reactor.core.publisher.Mono;

/**
 * {@code registry.admin.mutations}: every admin write, counted by resource, action and outcome.
 * All three tags come from small fixed sets (outcome is {@code success} or an error code), never
 * from tenant ids, topic names or other client input.
 */
@Component
public class AdminMetrics {

    public static final String MUTATIONS = "registry.admin.mutations";

    private final MeterRegistry registry;

    public AdminMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Counts {@code work} when it completes or fails; it runs lazily, as before. */
    public <T> Mono<T> count(String resource, String action, Mono<T> work) {
        return work
                .doOnSuccess(value -> counter(resource, action, "success").increment())
                .doOnError(error -> counter(resource, action, outcome(error)).increment());
    }

    private Counter counter(String resource, String action, String outcome) {
        return Counter.builder(MUTATIONS)
                .description("Admin API writes by resource, action and outcome")
                .tag("resource", resource)
                .tag("action", action)
                .tag("outcome", outcome)
                .register(registry);
    }

    private static String outcome(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof DataBufferLimitException) {
                return "payload_too_large";
            }
        }
        if (error instanceof SwitchboardException s) {
            return s.code().code();
        }
        if (error instanceof ServerWebInputException) {
            return "invalid_request";
        }
        return "error";
    }
}
