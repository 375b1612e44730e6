package dev.switchboard.platform.tracing;

import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

import java.util.HashMap;
import java.util.Map;

/**
 * Tracing is off unless {@code switchboard.tracing.otlp-endpoint} ({@code SWITCHBOARD_OTLP_ENDPOINT},
 * default {@code off}) is an OTLP/HTTP traces URL such as {@code http://collector:4318/v1/traces}: then every
 * service records spans through Micrometer Tracing's OpenTelemetry bridge, propagates W3C
 * {@code traceparent} on its HTTP calls, and exports to that endpoint; {@code
 * switchboard.tracing.sampling} ({@code SWITCHBOARD_TRACE_SAMPLING}, 0–1) is the share of new
 * traces kept. Explicit {@code management.*} settings win over both. With tracing on, Reactor's
 * automatic context propagation is on too ({@code spring.reactor.context-propagation=auto}), so
 * log lines carry the trace and span id of the request they were written for.
 */
public class TracingEnvironmentPostProcessor implements EnvironmentPostProcessor, Ordered {

    public static final String ENDPOINT = "switchboard.tracing.otlp-endpoint";
    public static final String SAMPLING = "switchboard.tracing.sampling";
    static final String SOURCE_NAME = "switchboardTracing";
    /** The endpoint's default: no tracing (no spans, no propagation, no export). */
    public static final String OFF = "off";

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        String endpoint = environment.getProperty(ENDPOINT, OFF).trim();
        Map<String, Object> props = new HashMap<>();
        if (endpoint.isEmpty() || endpoint.equalsIgnoreCase(OFF)) {
            props.put("management.tracing.enabled", "false");
            // No trace ids to show: without this, Boot's text lines carry an empty, padded [trace,span] field.
            environment.getPropertySources().addFirst(new MapPropertySource(SOURCE_NAME + "Correlation",
                    Map.of("logging.pattern.correlation", "")));
        } else {
            if (!endpoint.startsWith("http://") && !endpoint.startsWith("https://")) {
                throw new IllegalArgumentException("SWITCHBOARD_OTLP_ENDPOINT (" + ENDPOINT + ") must be an http(s) URL, not '" + endpoint + "'");
            }
            String sampling = environment.getProperty(SAMPLING, "1.0").trim();
            double share;
            try {
                share = Double.parseDouble(sampling);
            } catch (NumberFormatException e) {
                share = -1;
            }
            if (!(share >= 0 && share <= 1)) {
                throw new IllegalArgumentException("SWITCHBOARD_TRACE_SAMPLING (" + SAMPLING + ") must be a number from 0 to 1, not '" + sampling + "'");
            }
            props.put("management.tracing.enabled", "true");
            props.put("management.tracing.sampling.probability", Double.toString(share));
            props.put("management.opentelemetry.tracing.export.otlp.endpoint", endpoint);
            // Log lines written while serving a traced request carry its trace.id and span.id: Reactor
            // restores the request's observation (and with it the MDC) on whatever thread an operator runs.
            // It installs a JVM-wide Reactor hook, so only when tracing is on.
            props.put("spring.reactor.context-propagation", "auto");
        }
        environment.getPropertySources().addLast(new MapPropertySource(SOURCE_NAME, props));
    }

    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE;
    }
}
