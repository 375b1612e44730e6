package dev.switchboard.workflow.model;

import reactor.core.publisher.Flux;

import java.util.Map;

/** A model a step can call: it streams the answer to one prompt as pieces of text, in order. */
public interface ModelProvider {

    /**
     * @param model      the provider's model name
     * @param prompt     the whole prompt, as one user message
     * @param parameters the step's {@code parameters} ({@code temperature}, {@code topP}, {@code maxTokens}, {@code stop})
     * @return the answer's tokens; cancelling the subscription stops the call
     */
    Flux<String> stream(String model, String prompt, Map<String, Object> parameters);
}
