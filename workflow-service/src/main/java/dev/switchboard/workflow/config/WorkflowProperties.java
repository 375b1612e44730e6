package dev.switchboard.workflow.config;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

import java.net.URI;
import java.time.Duration;
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
 * @param deliveryUrl        base URL of delivery-service ({@code SWITCHBOARD_DELIVERY_URL}), where runs publish their events
 * @param registryUrl        base URL of registry-service ({@code SWITCHBOARD_REGISTRY_URL}), asked which output topics are watched
 * @param runs               how runs are worked
 * @param echo               the built-in {@value #ECHO_PROVIDER} provider
 */
@Validated
@ConfigurationProperties("switchboard.workflow")
public record WorkflowProperties(
        String serviceToken,
        Map<String, @Valid @NotNull Provider> providers,
        @Min(1024) @Max(4 * 1024 * 1024) int maxDefinitionBytes,
        @Min(1) @Max(1000) int maxSteps,
        URI deliveryUrl,
        URI registryUrl,
        @Valid Runs runs,
        @Valid Echo echo) {

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
        deliveryUrl = deliveryUrl == null ? DEFAULT_DELIVERY_URL : deliveryUrl;
        registryUrl = registryUrl == null ? DEFAULT_REGISTRY_URL : registryUrl;
        runs = runs == null ? new Runs(null, null, 0, null, null, null) : runs;
        echo = echo == null ? new Echo(null) : echo;
    }

    public static final URI DEFAULT_DELIVERY_URL = URI.create("http://127.0.0.1:8082");
    public static final URI DEFAULT_REGISTRY_URL = URI.create("http://127.0.0.1:8081");

    /**
     * How this replica works runs: it leases ready steps ({@code FOR UPDATE SKIP LOCKED}, so replicas
     * share the work), renews each lease while the step runs, and takes over steps whose lease ran out.
     *
     * @param pollInterval       how often it looks for steps to run (a step readied here starts at once)
     * @param lease              how long a leased step is this replica's without a renewal: a replica
     *                           that dies has its steps taken over this long after its last renewal
     * @param maxConcurrentSteps most steps running at once on this replica
     * @param publishTimeout     longest wait for delivery-service to store one batch of a run's events
     * @param triggerPollInterval how often the pipelines' trigger groups are polled for new trigger events
     * @param watchInterval      how often runs with cancelWhenUnwatched check that their output topic is watched
     */
    public record Runs(Duration pollInterval, Duration lease, @Min(0) @Max(10_000) int maxConcurrentSteps,
                       Duration publishTimeout, Duration triggerPollInterval, Duration watchInterval) {
        public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofMillis(250);
        public static final Duration DEFAULT_LEASE = Duration.ofSeconds(15);
        public static final int DEFAULT_MAX_CONCURRENT_STEPS = 256;
        public static final Duration DEFAULT_PUBLISH_TIMEOUT = Duration.ofSeconds(10);
        public static final Duration DEFAULT_TRIGGER_POLL_INTERVAL = Duration.ofMillis(500);
        public static final Duration DEFAULT_WATCH_INTERVAL = Duration.ofSeconds(1);

        public Runs {
            pollInterval = pollInterval == null ? DEFAULT_POLL_INTERVAL : pollInterval;
            lease = lease == null ? DEFAULT_LEASE : lease;
            maxConcurrentSteps = maxConcurrentSteps == 0 ? DEFAULT_MAX_CONCURRENT_STEPS : maxConcurrentSteps;
            publishTimeout = publishTimeout == null ? DEFAULT_PUBLISH_TIMEOUT : publishTimeout;
            triggerPollInterval = triggerPollInterval == null ? DEFAULT_TRIGGER_POLL_INTERVAL : triggerPollInterval;
            watchInterval = watchInterval == null ? DEFAULT_WATCH_INTERVAL : watchInterval;
            if (lease.compareTo(Duration.ofMillis(300)) < 0) {
                throw new IllegalArgumentException("switchboard.workflow.runs.lease must be at least 300ms, got " + lease);
            }
        }
    }

    /**
     * @param tokenInterval the pause between two tokens of an answer ({@code 0s}: as fast as they are read)
     */
    public record Echo(Duration tokenInterval) {
        public static final Duration DEFAULT_TOKEN_INTERVAL = Duration.ofMillis(20);

        public Echo {
            tokenInterval = tokenInterval == null ? DEFAULT_TOKEN_INTERVAL : tokenInterval;
        }
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
