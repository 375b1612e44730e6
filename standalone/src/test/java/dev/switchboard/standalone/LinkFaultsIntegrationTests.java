package dev.switchboard.standalone;

import dev.switchboard.testsupport.TcpProxy;
import dev.switchboard.testsupport.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Issue #16's network faults under load ({@link FaultRun}): the gateway reaches delivery-service, and
 * delivery-service reaches PostgreSQL, through loopback TCP proxies ({@link TcpProxy}) that cut every
 * connection they carry (RST, as a dropped path or a restarted middlebox does) and stall them (open but
 * silent both ways, as a half-open connection is, until the proxy cuts them too; the gateway's links
 * also for good, which the gateway must notice by itself). Each fault in turn,
 * under a retrying producer and 100 resuming WebSocket subscribers; the bar is the same as for killed
 * processes: 0 lost, 0 duplicated, 0 reordered, each acknowledged event in the log once.
 */
class LinkFaultsIntegrationTests {

    @Test
    @Timeout(value = 12, unit = TimeUnit.MINUTES)
    void cutAndStalledLinksToDeliveryAndToPostgresLoseNothingAcknowledged(@TempDir Path dir) throws Exception {
        try (ServiceProcesses services = new ServiceProcesses(dir);
             TcpProxy toDelivery = new TcpProxy(services.port("delivery"));
             TcpProxy toPostgres = new TcpProxy(TestDatabase.get().uri().port())) {
            services.override("gateway", "SWITCHBOARD_DELIVERY_URL", toDelivery.url());
            // Above delivery's 15 s heartbeat, below the default 40 s: the run stays short.
            services.override("gateway", "SWITCHBOARD_GATEWAY_UPSTREAMSILENCE", "20s");
            services.override("delivery", "SWITCHBOARD_DATABASE_URL", services.databaseUrl(toPostgres.port()));
            services.startAll();
            try (FaultRun run = new FaultRun(services, "link faults", 100, 20)) {
                run.fault("every gateway→delivery connection cut", toDelivery::cutAll);
                run.fault("every gateway→delivery connection stalled 5 s, then cut", () -> {
                    toDelivery.blackholeAll();
                    Thread.sleep(5_000);
                    toDelivery.cutAll();
                });
                run.fault("every delivery→PostgreSQL connection cut", toPostgres::cutAll);
                run.fault("every delivery→PostgreSQL connection stalled 5 s, then cut", () -> {
                    toPostgres.blackholeAll();
                    Thread.sleep(5_000);
                    toPostgres.cutAll();
                });
                // Nobody cuts it: the gateway notices by itself (publishes time out; the topic's stream from delivery
                // says nothing for longer than upstream-silence) and opens new connections.
                run.fault("every gateway→delivery connection stalled for good", toDelivery::blackholeAll);
                run.verify();
            }
        }
    }
}
