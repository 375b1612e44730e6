package dev.switchboard.gateway.fanout;

import dev.switchboard.contracts.errors.ErrorCode;

import java.util.Map;

/** What a socket hears about one of its subscriptions. Calls never block; some come under fan-out locks. */
public interface SubscriptionListener {

    /**
     * The subscription is attached: the shared stream stands at {@code head}, and the socket's
     * resume point starts at {@code start} (its {@code after}, or {@code head} without one). Comes
     * before any event of the subscription is offered to the socket's queue.
     */
    void subscribed(String topic, Long requestId, Map<Integer, Long> head, Map<Integer, Long> start);

    /** The subscription ended on the server's side; nothing more comes for it. */
    void failed(String topic, Long requestId, ErrorCode code, String message);

    /** The socket's queue is full: it cannot keep up. */
    void lagging();
}
