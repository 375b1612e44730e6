package dev.switchboard.platform.logging;

import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

import java.util.Locale;
import java.util.Map;

/**
 * {@code switchboard.log-format} ({@code SWITCHBOARD_LOG_FORMAT}): {@code json} writes one ECS JSON
 * object per line to the console (Boot's structured logging: timestamp, level, service, logger,
 * thread, message, the key-value pairs a line carries, and the trace and span ids once tracing is
 * on), with no banner; {@code text} keeps Boot's plain lines, for development. An explicit
 * {@code logging.structured.format.console} wins over either. Runs after the service's config
 * files are read and before logging starts.
 */
public class LogFormatEnvironmentPostProcessor implements EnvironmentPostProcessor, Ordered {

    public static final String PROPERTY = "switchboard.log-format";
    static final String SOURCE_NAME = "switchboardLogFormat";

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        String format = environment.getProperty(PROPERTY, "text").trim().toLowerCase(Locale.ROOT);
        switch (format) {
            case "text" -> {
            }
            case "json" -> environment.getPropertySources().addLast(new MapPropertySource(SOURCE_NAME, Map.of(
                    "logging.structured.format.console", "ecs",
                    // A banner in the middle of a JSON stream is a line no log shipper parses.
                    "spring.main.banner-mode", "off")));
            default -> throw new IllegalArgumentException("SWITCHBOARD_LOG_FORMAT (" + PROPERTY + ") must be json or text, not '"
                    + environment.getProperty(PROPERTY) + "'");
        }
    }

    @Override
    public int getOrder() {
        // After the config files (ConfigDataEnvironmentPostProcessor), so their placeholder is resolved.
        return Ordered.LOWEST_PRECEDENCE;
    }
}
