package dev.switchboard.gateway.fanout;

import dev.switchboard.contracts.registry.ConnectionReport;
import java.util.List;
import java.util.ArrayList;
import dev.switchboard.gateway.config.WebSocketProperties;
import dev.switchboard.gateway.rest.DeliveryClient;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.stream.Collectors;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Local fan-out: per gateway instance, ONE upstream stream from delivery-service per
 * (tenant, topic), however many of this instance's sockets subscribe to it. The upstream opens
 * with the first subscriber (live from the topic's current heads), is shared by every later one,
 * and closes {@link WebSocketProperties#upstreamLinger()} after the last one leaves (a quick
 * re-subscribe, e.g. a page reload, reuses it).
 *
 * <p>A subscriber that resumes from an older position ({@code after}) first replays privately from
 * the log, then joins the shared stream with no gap and no duplicate; see {@link TopicSubscription}.
 * Each socket's bounded {@link Outbound} is filled without ever waiting, so the shared stream always
 * runs at full speed and a socket that cannot keep up is cut, not waited for.
 */
@Component
public class Fanout implements DisposableBean {

    /** What one upstream is keyed by. */
    record Key(String tenant, String topic) {
    }

    private final Map<Key, Upstream> upstreams = new ConcurrentHashMap<>();
    private final DeliveryClient delivery;
    private final WebSocketProperties properties;
    private final Scheduler timers = Schedulers.parallel();
    private final LongConsumer liveWrites;
    private final SocketDeliveryTracing tracing;

    Fanout(DeliveryClient delivery, WebSocketProperties properties, MeterRegistry meters, SocketDeliveryTracing tracing) {
        this.delivery = delivery;
        this.tracing = tracing;
        this.properties = properties;
        meters.gauge("switchboard.gateway.ws.upstreams", upstreams, Map::size);
        Timer written = delivery.stages().stage(STAGE_WRITE);
        this.liveWrites = since -> written.record(System.nanoTime() - since, TimeUnit.NANOSECONDS);
    }

    /** Live-path stage: an event's line arrived from delivery until it is written to a socket (each socket). */
    public static final String STAGE_WRITE = "gateway.write";

    SocketDeliveryTracing tracing() {
        return tracing;
    }

    /** For each socket's {@link Outbound}: times the socket stage of each live event it writes. */
    public LongConsumer liveWrites() {
        return liveWrites;
    }

    /** A subscription of one socket to one topic; cancel it to leave. */
    public interface Handle {
        void cancel();
    }

    /**
     * Subscribes a socket: {@code after} is a complete resume vector (every partition), or null for
     * new events only. The listener hears {@code subscribed} first, then the events go to {@code out}.
     */
    public Handle subscribe(String tenant, String topic, Map<Integer, Long> after, Long requestId,
                            Outbound out, SubscriptionListener listener) {
        Key key = new Key(tenant, topic);
        TopicSubscription subscription = new TopicSubscription(this, key, after, requestId, out, listener);
        while (true) {
            Upstream upstream = upstreams.computeIfAbsent(key, k -> new Upstream(k, this));
            if (upstream.attach(subscription)) {
                upstream.openOnce();
                return subscription;
            }
            // It closed between lookup and attach and has left the map; take a fresh one.
        }
    }

    /** The topics of the tenant with an open upstream on this instance (diagnostics, tests). */
    public Set<String> upstreams(String tenant) {
        return upstreams.keySet().stream().filter(k -> k.tenant().equals(tenant)).map(Key::topic).collect(Collectors.toSet());
    }

    /**
     * Per tenant, the topics local sockets subscribe to, for the registry (runs with
     * cancelWhenUnwatched ask it): at most {@code max} a tenant, a tenant with more as {@code ["*"]}.
     */
    public Map<String, List<String>> watched(int max) {
        Map<String, List<String>> watched = new java.util.HashMap<>();
        upstreams.forEach((key, upstream) -> {
            if (upstream.subscriberCount() > 0) {
                watched.computeIfAbsent(key.tenant(), t -> new ArrayList<>()).add(key.topic());
            }
        });
        watched.replaceAll((tenant, topics) -> topics.size() > max ? List.of(ConnectionReport.EVERY_TOPIC) : topics);
        return watched;
    }

    /** How many local subscriptions share the topic's upstream (diagnostics, tests). */
    public int subscriberCount(String tenant, String topic) {
        Upstream upstream = upstreams.get(new Key(tenant, topic));
        return upstream == null ? 0 : upstream.subscriberCount();
    }

    DeliveryClient delivery() {
        return delivery;
    }

    WebSocketProperties properties() {
        return properties;
    }

    void scheduleIdleCheck(Upstream upstream) {
        timers.schedule(upstream::closeIfIdle, properties.upstreamLinger().toMillis(), TimeUnit.MILLISECONDS);
    }

    void forget(Upstream upstream) {
        upstreams.remove(upstream.key(), upstream);
    }

    @Override
    public void destroy() {
        upstreams.values().forEach(Upstream::close);
    }
}
