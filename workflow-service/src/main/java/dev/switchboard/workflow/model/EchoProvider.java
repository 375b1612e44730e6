package dev.switchboard.workflow.model;

import reactor.core.publisher.Flux;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The built-in offline provider: its answer is the prompt itself, streamed a word at a time (each
 * word with the white space after it) with a fixed pause between tokens, so a whole pipeline runs —
 * and its answers stream to a browser — with no network and no model. Deterministic: the same
 * prompt always gives the same tokens. {@code maxTokens} cuts the answer short; {@code stop}
 * strings end it where they first appear.
 */
public final class EchoProvider implements ModelProvider {

    private final Duration tokenInterval;

    public EchoProvider(Duration tokenInterval) {
        this.tokenInterval = tokenInterval;
    }

    /** The tokens the echo provider answers a prompt with. */
    public static List<String> tokens(String prompt, Map<String, Object> parameters) {
        String answer = prompt;
        Object stop = parameters.get("stop");
        if (stop instanceof List<?> stops) {
            for (Object s : stops) {
                int at = s instanceof String text && !text.isEmpty() ? answer.indexOf(text) : -1;
                if (at >= 0) {
                    answer = answer.substring(0, at);
                }
            }
        }
        List<String> tokens = Arrays.stream(answer.split("(?<=\\s)(?=\\S)")).filter(t -> !t.isEmpty()).toList();
        Object max = parameters.get("maxTokens");
        if (max instanceof Number n && n.intValue() < tokens.size()) {
            tokens = tokens.subList(0, n.intValue());
        }
        return tokens;
    }

    @Override
    public Flux<String> stream(String model, String prompt, Map<String, Object> parameters) {
        Flux<String> tokens = Flux.defer(() -> Flux.fromIterable(tokens(prompt, parameters)));
        return tokenInterval.isZero() ? tokens : tokens.delayElements(tokenInterval);
    }
}
