package dev.switchboard.workflow.run;

import dev.switchboard.workflow.config.WorkflowProperties;
import org.springframework.http.HttpHeaders;
import org.springframework.stereotype.Component;
import org.springframework.web.reactive.function.client.WebClient;

import java.net.URI;

/**
 * workflow-service's clients of the other services' internal APIs, one each, authenticated with
 * the service token: delivery-service (publishing run events, polling trigger groups) and
 * registry-service (which output topics are watched).
 */
@Component
class ServiceClients {

    private final WebClient delivery;
    private final WebClient registry;

    ServiceClients(WebClient.Builder builder, WorkflowProperties properties) {
        this.delivery = client(builder, properties.deliveryUrl(), properties.serviceToken());
        this.registry = client(builder, properties.registryUrl(), properties.serviceToken());
    }

    private static WebClient client(WebClient.Builder builder, URI baseUrl, String serviceToken) {
        return builder.clone().baseUrl(baseUrl.toString())
                .defaultHeader(HttpHeaders.AUTHORIZATION, "Bearer " + serviceToken)
                .build();
    }

    WebClient delivery() {
        return delivery;
    }

    WebClient registry() {
        return registry;
    }
}
