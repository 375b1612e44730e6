package dev.switchboard.contracts.frames;

import dev.switchboard.contracts.envelope.RawJson;

/**
 * A frame a client sends on the WebSocket {@code /v1/ws} ({@code PROTOCOL.md}, "WebSocket"). Every
 * frame may carry an integer {@code id} that the server echoes in its reply; {@code null} when the
 * client sent none.
 */
public sealed interface ClientFrame {

    /** The client's correlation id, echoed in the reply; null when absent. */
    Long id();

    /** {@code {"op":"connect","id":1,"token":"<jwt>"}}: the first frame, within the connect deadline. */
    record Connect(Long id, String token) implements ClientFrame {
    }

    /**
     * {@code {"op":"subscribe","id":2,"topic":"chat.room-42","after":1041}}. {@code after} is in the
     * text form of resume points ({@code dev.switchboard.contracts.stream.ResumePoints}): the wire's
     * integer {@code 1041} is {@code "1041"} (every partition after 1041), its object
     * {@code {"0":41,"1":7}} is {@code "0:41,1:7"}; null when omitted (new events only).
     */
    record Subscribe(Long id, String topic, String after) implements ClientFrame {
    }

    /** {@code {"op":"unsubscribe","id":3,"topic":"…"}}. */
    record Unsubscribe(Long id, String topic) implements ClientFrame {
    }

    /** {@code {"op":"publish","id":4,"topic":"…","event":{…}}}; the event is kept as exact JSON text. */
    record Publish(Long id, String topic, RawJson event) implements ClientFrame {
    }

    /** {@code {"op":"ping","id":5}}. */
    record Ping(Long id) implements ClientFrame {
    }
}
