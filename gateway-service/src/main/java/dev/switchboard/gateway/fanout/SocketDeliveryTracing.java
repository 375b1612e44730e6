package dev.switchboard.gateway.fanout;

import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;

import java.util.Map;

/**
 * The last hop of an event's trace: a gateway handing an event it got from delivery to its
 * sockets is a span ({@code deliver to sockets}, kind consumer) whose parent is the event's own
 * {@code traceparent} — the trace its publish began — so one trace id runs from the producer's
 * request through the commit to the sockets. One span per event and gateway, not per socket (a
 * broadcast to 10,000 sockets is one span, with their count as an attribute); it ends when every
 * socket's queue has the event. Only with tracing on (a {@link Tracer} and a {@link Propagator},
 * which Boot provides when {@code SWITCHBOARD_OTLP_ENDPOINT} is set) and an event that carries a
 * sampled trace; otherwise nothing is recorded and nothing costs.
 */
@Component
public class SocketDeliveryTracing {

    static final String SPAN_NAME = "deliver to sockets";
    private static final String TRACEPARENT_FIELD = "\"traceparent\":\"";

    private final Tracer tracer;
    private final Propagator propagator;

    SocketDeliveryTracing(ObjectProvider<Tracer> tracer, ObjectProvider<Propagator> propagator) {
        Tracer t = tracer.getIfAvailable();
        Propagator p = propagator.getIfAvailable();
        boolean on = t != null && t != Tracer.NOOP && p != null && p != Propagator.NOOP;
        this.tracer = on ? t : null;
        this.propagator = on ? p : null;
    }

    /** The span of handing {@code envelope} to the sockets of {@code key}, started; null when there is nothing to record. */
    Span start(String envelope, Fanout.Key key) {
        if (tracer == null) {
            return null;
        }
        String traceparent = traceparent(envelope);
        if (traceparent == null || !traceparent.endsWith("-01")) {
            return null;
        }
        return propagator.extract(Map.of("traceparent", traceparent), Map::get)
                .name(SPAN_NAME)
                .kind(Span.Kind.CONSUMER)
                .tag("switchboard.tenant", key.tenant())
                .tag("switchboard.topic", key.topic())
                .start();
    }

    /** Ends a span {@link #start} gave (null is nothing), naming how many sockets' queues took the event. */
    static void end(Span span, int sockets) {
        if (span != null) {
            span.tag("switchboard.sockets", Integer.toString(sockets));
            span.end();
        }
    }

    /** The envelope's top-level {@code traceparent}. */
    static String traceparent(String envelope) {
        return Upstream.attribute(envelope, TRACEPARENT_FIELD);
    }
}
