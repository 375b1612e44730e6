package dev.switchboard.workflow.model;

import dev.switchboard.workflow.config.WorkflowProperties;
import org.springframework.stereotype.Component;

import java.util.HashMap;
import java.util.Map;

/** The providers steps may name: the built-in {@code echo} and every configured OpenAI-compatible endpoint. */
@Component
public class ModelProviders {

    private final Map<String, ModelProvider> providers = new HashMap<>();

    ModelProviders(WorkflowProperties properties, OpenAiCompatibleProviders openAi) {
        providers.put(WorkflowProperties.ECHO_PROVIDER, new EchoProvider(properties.echo().tokenInterval()));
        properties.providers().forEach((name, provider) -> providers.put(name, openAi.create(name, provider)));
    }

    /** @return the provider, or null when none has that name (a definition saved before the configuration changed) */
    public ModelProvider get(String name) {
        return providers.get(name);
    }
}
