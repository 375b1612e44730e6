package dev.switchboard.standalone;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Issue #16's process faults under load ({@link FaultRun}): each service is its own process
 * ({@link ServiceProcesses}), and each in turn is killed with SIGKILL — no shutdown, no drain, no last
 * words — while a producer publishes without pause through the gateway and 100 WebSocket subscribers
 * follow the topic and resume by themselves. The killed service is started again at once, as an
 * orchestrator replaces a dead pod. The bar: 0 acknowledged events lost, 0 duplicated, 0 reordered for
 * every subscriber, and a log that holds each acknowledged event exactly once.
 */
class ServiceKillIntegrationTests {

    @Test
    @Timeout(value = 12, unit = TimeUnit.MINUTES)
    void killingEveryServiceInTurnLosesNothingAcknowledgedAndNoSubscriberSeesAnEventTwiceOrOutOfOrder(@TempDir Path dir)
            throws Exception {
        try (ServiceProcesses services = new ServiceProcesses(dir)) {
            services.startAll();
            try (FaultRun run = new FaultRun(services, "kill -9", 100, 20)) {
                for (String service : List.of("gateway", "delivery", "registry", "workflow")) {
                    run.fault("kill -9 of " + service + ", started again at once", () -> {
                        services.kill(service);
                        services.start(service);
                        services.awaitReady(service);
                    });
                }
                run.verify();
            }
        }
    }
}
