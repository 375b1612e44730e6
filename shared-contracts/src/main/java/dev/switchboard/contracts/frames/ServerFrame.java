package dev.switchboard.contracts.frames;

import dev.switchboard.contracts.errors.ErrorCode;

import java.util.Map;

/**
 * A frame the server sends on the WebSocket {@code /v1/ws} ({@code PROTOCOL.md}, "WebSocket").
 * Positions ({@code head}, {@code resume}) are per partition; on the wire a topic whose only
 * partition is 0 shows a plain seq, any other an object {@code {"<partition>": seq}}.
 */
public sealed interface ServerFrame {

    /** The reply to {@code connect}: the session id and the server's ping interval in seconds. */
    record Connected(Long id, String session, long pingInterval) implements ServerFrame {
    }

    /** The reply to {@code subscribe}: where the live stream stands; events of the topic follow it. */
    record Subscribed(Long id, String topic, Map<Integer, Long> head) implements ServerFrame {
        public Subscribed {
            head = Map.copyOf(head);
        }
    }

    record Unsubscribed(Long id, String topic) implements ServerFrame {
    }

    /** The reply to {@code publish}: where the event was stored (the original one for a duplicate id). */
    record Published(Long id, String topic, String eventId, long seq, int partition, boolean duplicate) implements ServerFrame {
    }

    record Pong(Long id) implements ServerFrame {
    }

    /** One event of a subscribed topic; {@code envelope} is the complete CloudEvent JSON, passed through untouched. */
    record Event(String topic, String envelope) implements ServerFrame {
    }

    /**
     * A failed request; the connection stays open unless a close follows. {@code id} is the
     * request's, or null; {@code topic} is set when the failure ends a subscription.
     */
    record Error(Long id, ErrorCode code, String message, String topic) implements ServerFrame {
    }

    /** A producer should wait before publishing to the topic again. */
    record SlowDown(String topic, long retryAfterMs) implements ServerFrame {
    }

    /**
     * The server is about to close the connection: reconnect after {@code delayMs} and subscribe to
     * each topic of {@code resume} with {@code after} = its position.
     */
    record Reconnect(Reason reason, long delayMs, Map<String, Map<Integer, Long>> resume) implements ServerFrame {
        public Reconnect {
            resume = Map.copyOf(resume);
        }
    }

    /** Why a {@link Reconnect} is sent. */
    enum Reason {
        SHUTDOWN("shutdown"),
        LAGGING("lagging");

        private final String wire;

        Reason(String wire) {
            this.wire = wire;
        }

        public String wire() {
            return wire;
        }
    }

    /** WebSocket close codes of {@code PROTOCOL.md}. */
    final class CloseCodes {
        public static final int UNAUTHENTICATED = 4001;
        public static final int FORBIDDEN = 4003;
        public static final int LAGGING = 4008;
        public static final int FRAME_TOO_LARGE = 4009;
        public static final int RATE_LIMITED = 4029;
        public static final int SERVICE_RESTART = 1012;
        /** RFC 6455 §7.4.1: a frame breaking the protocol (reserved bits set with no extension agreed). */
        public static final int PROTOCOL_ERROR = 1002;
        /** RFC 6455 §7.4.1: a text message that is not UTF-8. */
        public static final int INVALID_PAYLOAD = 1007;

        private CloseCodes() {
        }
    }
}
