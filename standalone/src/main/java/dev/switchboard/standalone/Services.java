package dev.switchboard.standalone;

import dev.switchboard.delivery.DeliveryApplication;
import dev.switchboard.gateway.GatewayApplication;
import dev.switchboard.registry.RegistryApplication;
import dev.switchboard.workflow.WorkflowApplication;

import java.util.List;

/**
 * Every service the standalone launcher runs, in start order; they stop in reverse order.
 * The registry starts first because the others authenticate keys and look topics up through it;
 * the gateway, the public edge, starts last, once everything it forwards to is up.
 * <p>
 * Adding a service: its dependency in {@code standalone/pom.xml} and one line here, e.g.
 * {@code new ServiceDescriptor("delivery-service", "DELIVERY_PORT", 8082, "delivery", DeliveryApplication::application)}.
 * {@code ServiceCoverageTests} fails while a service module with code is missing from this list.
 */
final class Services {

    static final List<ServiceDescriptor> ALL = List.of(
            new ServiceDescriptor("registry-service", "REGISTRY_PORT", 8081, "registry", RegistryApplication::application),
            new ServiceDescriptor("delivery-service", "DELIVERY_PORT", 8082, "delivery", DeliveryApplication::application),
            new ServiceDescriptor("workflow-service", "WORKFLOW_PORT", 8083, "workflow", WorkflowApplication::application),
            new ServiceDescriptor("gateway-service", "GATEWAY_PORT", 8080, "gateway", GatewayApplication::application));

    /** The registry's name: every other service is pointed at it. */
    static final String REGISTRY = "registry-service";

    /** The public edge's name: the demo page lives there. */
    static final String GATEWAY = "gateway-service";

    /** The event log's name: the gateway is pointed at it. */
    static final String DELIVERY = "delivery-service";

    /** The pipelines' name: the gateway is pointed at it. */
    static final String WORKFLOW = "workflow-service";

    private Services() {
    }
}
