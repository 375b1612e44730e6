package dev.switchboard.standalone;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

class ServiceLogNameTests {

    private final ServiceLogName converter = new ServiceLogName();
    private final LoggerContext context = new LoggerContext();

    @Test
    void ourOwnCodeIsNamedByItsPackage() {
        assertThat(converter.convert(event("dev.switchboard.gateway.session.Sessions"))).isEqualTo("[gateway-service] ");
        assertThat(converter.convert(event("dev.switchboard.delivery.ingest.EventWriter"))).isEqualTo("[delivery-service] ");
        assertThat(converter.convert(event("dev.switchboard.registry.tenant.TenantService"))).isEqualTo("[registry-service] ");
        // The registry's client runs inside the gateway and delivery: its package is not the registry's.
        assertThat(converter.convert(event("dev.switchboard.registryclient.ChangeFeed"))).isEqualTo("[switchboard] ");
    }

    @Test
    void everyServicesCodeLivesWhereItsNameSays() {
        for (ServiceDescriptor service : Services.ALL) {
            Class<?> application = (Class<?>) service.application().get().getAllSources().iterator().next();
            assertThat(application.getPackageName()).as(service.name()).isEqualTo(ServiceLogName.codePackage(service));
        }
    }

    @Test
    void librariesAreNamedForTheServiceThisThreadStartsAndSharedOtherwise() throws Exception {
        String spring = "org.springframework.boot.SpringApplication";
        assertThat(converter.convert(event(spring))).isEqualTo("[switchboard] ");
        String during = ServiceLogName.actingFor("delivery-service", () -> converter.convert(event(spring)));
        assertThat(during).isEqualTo("[delivery-service] ");
        // Not inherited: a thread that outlives the start-up (an event loop) serves every service.
        String elsewhere = ServiceLogName.actingFor("delivery-service",
                () -> CompletableFuture.supplyAsync(() -> converter.convert(event(spring))).join());
        assertThat(elsewhere).isEqualTo("[switchboard] ");
        assertThat(converter.convert(event(spring))).isEqualTo("[switchboard] ");
    }

    private LoggingEvent event(String logger) {
        return new LoggingEvent(ServiceLogNameTests.class.getName(), context.getLogger(logger), Level.INFO, "message", null, null);
    }
}
