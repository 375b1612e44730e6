package dev.switchboard.standalone;

import dev.switchboard.platform.database.PostgresUri;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The command-line arguments one service is run with. Command-line arguments outrank the
 * service's own config file and the environment, so the launcher decides ports, database and
 * secrets; arguments given to the launcher itself ({@code --name=value}) are passed to every
 * service and win over the launcher's, each name once (Spring would join repeated values).
 */
final class ServiceArguments {

    private ServiceArguments() {
    }

    static String[] of(ServiceDescriptor service, int port, String bindAddress, Shared shared, String... launcherArgs) {
        Map<String, String> props = new LinkedHashMap<>();
        props.put("server.port", Integer.toString(port));
        props.put("server.address", bindAddress);
        props.put("switchboard.database.url", shared.database().toUriString());
        props.put("switchboard.database.schema", service.schema());
        props.put("switchboard.registry.admin-token", shared.adminToken());
        props.put("switchboard.registry.service-token", shared.serviceToken());
        props.put("switchboard.registry.secret-key", shared.secretKey());
        props.put("switchboard.registry-client.base-url", shared.registryUrl());
        props.put("switchboard.registry-client.service-token", shared.serviceToken());
        props.put("switchboard.delivery.service-token", shared.serviceToken());
        props.put("switchboard.workflow.service-token", shared.serviceToken());
        props.put("switchboard.workflow.delivery-url", shared.deliveryUrl());
        props.put("switchboard.workflow.registry-url", shared.registryUrl());
        props.put("switchboard.gateway.service-token", shared.serviceToken());
        props.put("switchboard.gateway.delivery-url", shared.deliveryUrl());
        props.put("switchboard.gateway.workflow-url", shared.workflowUrl());
        // The launcher prints one table instead of four banners.
        props.put("spring.main.banner-mode", "off");
        // Four services share the launcher's one logback context and its pattern, which names each line's service.
        props.put("switchboard.log-format", "text");
        // The launcher's shutdown hook stops the services, then PostgreSQL; logging must outlive both.
        props.put("logging.register-shutdown-hook", "false");
        // Each service's /actuator/prometheus shows its own meters only, not the JVM-wide global registry's.
        props.put("management.metrics.use-global-registry", "false");

        List<String> others = new ArrayList<>();
        for (String arg : launcherArgs) {
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 2) {
                props.put(arg.substring(2, eq), arg.substring(eq + 1));
            } else {
                others.add(arg);
            }
        }
        List<String> args = new ArrayList<>();
        props.forEach((name, value) -> args.add("--" + name + "=" + value));
        args.addAll(others);
        return args.toArray(String[]::new);
    }

    /**
     * What every service gets alike.
     *
     * @param database     the one database; each service keeps to its own schema in it
     * @param adminToken   the operator's bearer token on {@code /admin/v1}
     * @param serviceToken the bearer token between services
     * @param secretKey    base64 of the 32-byte key that encrypts client secrets
     * @param registryUrl  where the other services reach registry-service
     * @param deliveryUrl  where the gateway and workflow-service reach delivery-service
     * @param workflowUrl  where the gateway reaches workflow-service
     */
    record Shared(PostgresUri database, String adminToken, String serviceToken, String secretKey, String registryUrl,
                  String deliveryUrl, String workflowUrl) {

        @Override
        public String toString() {
            return "Shared[database=" + database + ", registryUrl=" + registryUrl + ", deliveryUrl=" + deliveryUrl
                    + ", workflowUrl=" + workflowUrl + "]";
        }
    }
}
