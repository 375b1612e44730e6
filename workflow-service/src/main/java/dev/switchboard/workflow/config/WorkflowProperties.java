package dev.switchboard.workflow.config;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

import java.net.URI;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Settings of workflow-service ({@code switchboard.workflow.*}).
 *
 * @param serviceToken       bearer token callers (the gateway) present on {@code /internal/v1} ({@code SWITCHBOARD_SERVICE_TOKEN})
 * @param providers          the model providers pipelines may name, by name (besides the built-in {@value #ECHO_PROVIDER});
 *                           none by default
 * @param maxDefinitionBytes largest pipeline definition accepted, JSON or YAML
 * @param maxSteps           most steps one pipeline may have
 */
@Validated
@ConfigurationProperties("switchboard.workflow")
public record WorkflowProperties(
        String serviceToken,
        Map<String, @Valid @NotNull Provider> providers,
        @Min(1024) @Max(4 * 1024 * 1024) int maxDefinitionBytes,
        @Min(1) @Max(1000) int maxSteps) {

    /** The built-in offline provider: it streams a deterministic answer, so pipelines work with no network. */
    public static final String ECHO_PROVIDER = "echo";
    public static final int DEFAULT_MAX_DEFINITION_BYTES = 256 * 1024;
    public static final int DEFAULT_MAX_STEPS = 64;
    private static final Pattern PROVIDER_NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,63}");

    public WorkflowProperties {
        providers = providers == null ? Map.of() : Map.copyOf(providers);
        for (String name : providers.keySet()) {
            if (!PROVIDER_NAME.matcher(name).matches() || name.equals(ECHO_PROVIDER)) {
                throw new IllegalArgumentException("switchboard.workflow.providers: '" + name
                        + "' is not a provider name ([a-z0-9][a-z0-9_-]*, not the built-in '" + ECHO_PROVIDER + "')");
            }
        }
        maxDefinitionBytes = maxDefinitionBytes == 0 ? DEFAULT_MAX_DEFINITION_BYTES : maxDefinitionBytes;
        maxSteps = maxSteps == 0 ? DEFAULT_MAX_STEPS : maxSteps;
    }

    /** Every provider name a step may use: the configured ones and {@value #ECHO_PROVIDER}. */
    public Set<String> providerNames() {
        Set<String> names = new TreeSet<>(providers.keySet());
        names.add(ECHO_PROVIDER);
        return names;
    }

    /**
     * One OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, most hosted models).
     *
     * @param baseUrl its base URL, e.g. {@code http://127.0.0.1:11434/v1}
     * @param apiKey  its key, if it needs one: a secret, never logged nor returned
     */
    public record Provider(@NotNull URI baseUrl, String apiKey) {

        @Override
        public String toString() {
            return "Provider[baseUrl=" + baseUrl + ", apiKey=" + (apiKey == null || apiKey.isEmpty() ? "none" : "***") + "]";
        }
    }
}
