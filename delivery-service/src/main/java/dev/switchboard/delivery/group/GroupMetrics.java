package dev.switchboard.delivery.group;

import dev.switchboard.contracts.names.TopicNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.springframework.stereotype.Component;

import java.util.concurrent.TimeUnit;

/** Consumer-group meters, tagged by tenant only (never topic or group: clients choose those). */
@Component
class GroupMetrics {

    private final MeterRegistry meters;

    GroupMetrics(MeterRegistry meters) {
        this.meters = meters;
    }

    void polled(String tenant, int events, long nanos) {
        Timer.builder("switchboard.delivery.groups.poll")
                .description("Consumer-group polls, from arrival to answer (long-poll waits included)")
                .tags("tenant", tag(tenant), "outcome", events > 0 ? "events" : "empty")
                .register(meters)
                .record(nanos, TimeUnit.NANOSECONDS);
        if (events > 0) {
            Counter.builder("switchboard.delivery.groups.delivered").description("Events leased to consumers (first deliveries and redeliveries)")
                    .tags("tenant", tag(tenant)).register(meters).increment(events);
        }
    }

    void redelivered(String tenant, int events) {
        if (events > 0) {
            Counter.builder("switchboard.delivery.groups.redeliveries").description("Events delivered again (attempt > 1)")
                    .tags("tenant", tag(tenant)).register(meters).increment(events);
        }
    }

    void deadLettered(String tenant, int events) {
        if (events > 0) {
            Counter.builder("switchboard.delivery.groups.dead.letters").description("Events moved to {topic}.dlq after maxAttempts")
                    .tags("tenant", tag(tenant)).register(meters).increment(events);
        }
    }

    void deadLetterFailed(String tenant) {
        Counter.builder("switchboard.delivery.groups.dead.letter.failures")
                .description("Dead letters that could not be published (the event stays pending and is tried again)")
                .tags("tenant", tag(tenant)).register(meters).increment();
    }

    private static String tag(String tenant) {
        return TopicNames.isValidTenantId(tenant) ? tenant : "invalid";
    }
}
