package dev.switchboard.workflow.model;

import dev.switchboard.workflow.config.WorkflowProperties;
import io.micrometer.observation.ObservationRegistry;
import okhttp3.Call;
import okhttp3.Interceptor;
import okhttp3.Request;
import okhttp3.Response;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.openai.OpenAiChatModel;
import org.springframework.ai.openai.OpenAiChatOptions;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Providers for OpenAI-compatible endpoints (OpenAI, Ollama, vLLM and most hosted models) through
 * Spring AI's OpenAI chat model: one model client per configured provider, its base URL and key
 * fixed at start; each step call streams one chat completion. Spring AI's own retries are off —
 * a step's retry policy decides, so a failed call is one attempt, visible in the run.
 *
 * <p>Spring AI 2.0's OpenAI model runs on the official OpenAI Java SDK, whose streams read the
 * HTTP body with blocking I/O and whose {@code close()} waits for a read in progress (seen here:
 * a cancelled stream of a stalled model held a Reactor thread until the model sent its next byte).
 * So a call is subscribed to, and its stream closed, on the bounded elastic scheduler, never on an
 * event loop or a timer thread; and before the close, the call's OkHttp request itself is
 * cancelled (found through an interceptor by a header only this service sets and strips before
 * sending), which aborts a read in progress: a stopped model call — timed out, cancelled, unwatched —
 * closes its connection at once, even while the model is stalled.
 */
@Component
class OpenAiCompatibleProviders {

    /** No key: local servers (Ollama, vLLM) take any, and the client library wants one. */
    private static final String NO_KEY = "none";

    /** Marks each request with its call's id, so a cancelled stream finds its OkHttp call; never sent. */
    static final String CALL_HEADER = "X-Switchboard-Model-Call";

    private final Map<String, Call> calls = new ConcurrentHashMap<>();
    private final ObservationRegistry observations;

    /** Spring AI's own observations of each call (a span of the step's trace when tracing is on). */
    OpenAiCompatibleProviders(ObjectProvider<ObservationRegistry> observations) {
        this.observations = observations.getIfAvailable(() -> ObservationRegistry.NOOP);
    }

    ModelProvider create(String name, WorkflowProperties.Provider provider) {
        OpenAiChatModel chat = OpenAiChatModel.builder()
                .observationRegistry(observations)
                .httpClientBuilderCustomizer(http -> http.interceptor(this::track))
                .options(OpenAiChatOptions.builder()
                        .baseUrl(provider.baseUrl().toString())
                        .apiKey(provider.apiKey() == null || provider.apiKey().isEmpty() ? NO_KEY : provider.apiKey())
                        .maxRetries(0)
                        .build())
                .build();
        return (model, prompt, parameters) -> Flux.defer(() -> {
            String call = UUID.randomUUID().toString();
            return chat.stream(new Prompt(prompt, options(model, parameters, call)))
                    .subscribeOn(Schedulers.boundedElastic())
                    .cancelOn(Schedulers.boundedElastic())
                    .doOnCancel(() -> {
                        Call running = calls.remove(call);
                        if (running != null) {
                            running.cancel();
                        }
                    })
                    .doFinally(signal -> calls.remove(call))
                    .concatMap(OpenAiCompatibleProviders::text);
        });
    }

    private Response track(Interceptor.Chain chain) throws IOException {
        Request request = chain.request();
        String call = request.header(CALL_HEADER);
        if (call == null) {
            return chain.proceed(request);
        }
        calls.put(call, chain.call());
        return chain.proceed(request.newBuilder().removeHeader(CALL_HEADER).build());
    }

    private static OpenAiChatOptions options(String model, Map<String, Object> parameters, String call) {
        // maxRetries again: options given with a prompt replace the model's defaults, and the SDK would retry a broken
        // stream by itself, streaming a second answer into the same attempt.
        OpenAiChatOptions.Builder options = OpenAiChatOptions.builder().model(model).maxRetries(0)
                .customHeaders(Map.of(CALL_HEADER, call));
        if (parameters.get("temperature") instanceof Number t) {
            options.temperature(t.doubleValue());
        }
        if (parameters.get("topP") instanceof Number p) {
            options.topP(p.doubleValue());
        }
        if (parameters.get("maxTokens") instanceof Number n) {
            options.maxTokens(n.intValue());
        }
        if (parameters.get("stop") instanceof List<?> stop) {
            options.stop(stop.stream().map(String::valueOf).toList());
        }
        return options.build();
    }

    private static Flux<String> text(ChatResponse response) {
        if (response.getResult() == null || response.getResult().getOutput() == null) {
            return Flux.empty();
        }
        String text = response.getResult().getOutput().getText();
        return text == null || text.isEmpty() ? Flux.empty() : Flux.just(text);
    }
}
