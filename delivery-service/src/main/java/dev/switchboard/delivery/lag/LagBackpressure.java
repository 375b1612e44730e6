package dev.switchboard.delivery.lag;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.names.TopicNames;
import dev.switchboard.contracts.registry.LagPolicy;
import dev.switchboard.contracts.registry.TopicSettings;
import dev.switchboard.platform.problem.SwitchboardException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.stereotype.Component;

import java.time.Duration;

/**
 * Backpressure to producers from consumer lag ({@code ARCHITECTURE.md}, "Guarantees"): when the
 * slowest consumer group of a topic is more than the topic's {@code maxLag} events behind (as
 * {@link LagView} last read it), the topic's {@code lagPolicy} applies to each new publish:
 * <ul>
 *   <li>{@code throttle}: {@code 429 slow_down}, {@code Retry-After} and {@code retryAfterMs} from
 *       {@link #throttleDelay(long, long)}, growing with how far the lag is over the limit;</li>
 *   <li>{@code shed}: {@code 429 slow_down} too, the events refused (counted as shed), and a flat
 *       {@code Retry-After} of the view's refresh interval (at least 1 s): the soonest the refusal
 *       can lift. Not {@code 503}: nothing is wrong with the service, only this topic's consumers
 *       are behind, and {@code 503 unavailable} would send callers to another instance or trip
 *       their circuit breakers for every topic;</li>
 *   <li>{@code none}: accepted, counted.</li>
 * </ul>
 * The check is a map look-up and runs before anything that costs (normalising, token buckets,
 * sequencing), so a refused request stores nothing and takes no tokens. Publishing recovers by
 * itself within one refresh once the consumers are back under the limit.
 *
 * <p>Meter {@code switchboard.delivery.publish.lag}: publish requests that found their topic over
 * its {@code maxLag}, tagged by tenant and outcome ({@code throttled}, {@code shed}, {@code accepted}).
 */
@Component
public class LagBackpressure {

    /** The {@code Retry-After} of a throttled publish just over the limit. */
    static final Duration MIN_DELAY = Duration.ofSeconds(1);
    /** The {@code Retry-After} of a throttled publish at twice the limit or more. */
    static final Duration MAX_DELAY = Duration.ofSeconds(30);

    private final LagView view;
    private final MeterRegistry meters;

    LagBackpressure(LagView view, MeterRegistry meters) {
        this.view = view;
        this.meters = meters;
    }

    /**
     * How long a throttled producer waits: 1 s just over the limit, growing linearly with the excess
     * to 30 s at twice the limit, and 30 s beyond: {@code 1000 + 29000 × min(1, (lag − maxLag) / maxLag)} ms.
     */
    static Duration throttleDelay(long lag, long maxLag) {
        long limit = Math.max(1, maxLag);
        double over = Math.min(1.0, Math.max(0, lag - limit) / (double) limit);
        long span = MAX_DELAY.toMillis() - MIN_DELAY.toMillis();
        return Duration.ofMillis(MIN_DELAY.toMillis() + Math.round(span * over));
    }

    /** Throws {@code slow_down} if the topic's policy refuses a publish at its current lag; otherwise returns. */
    public void check(String tenant, String topic, TopicSettings settings) {
        long lag = view.lag(tenant, topic);
        if (lag == 0 || lag <= settings.maxLag()) {
            return;
        }
        LagPolicy policy = settings.lagPolicy() == null ? TopicSettings.DEFAULT_LAG_POLICY : settings.lagPolicy();
        String behind = "The consumers of '" + topic + "' are " + lag + " events behind (maxLag " + settings.maxLag() + ")";
        switch (policy) {
            case NONE -> count(tenant, "accepted");
            case THROTTLE -> {
                count(tenant, "throttled");
                Duration wait = throttleDelay(lag, settings.maxLag());
                throw SwitchboardException.retryLater(ErrorCode.SLOW_DOWN,
                        behind + ": slow down; retry in " + wait.toMillis() + " ms.", wait);
            }
            case SHED -> {
                count(tenant, "shed");
                Duration wait = view.interval().compareTo(MIN_DELAY) > 0 ? view.interval() : MIN_DELAY;
                throw SwitchboardException.retryLater(ErrorCode.SLOW_DOWN,
                        behind + ": new events are refused (lagPolicy shed) until they catch up.", wait);
            }
        }
    }

    private void count(String tenant, String outcome) {
        Counter.builder("switchboard.delivery.publish.lag")
                .description("Publish requests to a topic whose slowest consumer group was over its maxLag, by what happened to them")
                .tags("tenant", TopicNames.isValidTenantId(tenant) ? tenant : "invalid", "outcome", outcome)
                .register(meters).increment();
    }
}
