package dev.switchboard.gateway.session;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.errors.Headers;
import dev.switchboard.contracts.frames.ClientFrame;
import dev.switchboard.contracts.frames.ServerFrame;
import dev.switchboard.contracts.frames.ServerFrame.CloseCodes;
import dev.switchboard.contracts.names.TopicNames;
import dev.switchboard.contracts.registry.TenantQuotas;
import dev.switchboard.contracts.stream.ResumePoints;
import dev.switchboard.gateway.admission.EdgeAdmission;
import dev.switchboard.gateway.auth.Caller;
import dev.switchboard.gateway.auth.ClientTokens;
import dev.switchboard.gateway.fanout.Fanout;
import dev.switchboard.gateway.fanout.OutFrame;
import dev.switchboard.gateway.fanout.Outbound;
import dev.switchboard.gateway.fanout.SubscriptionListener;
import dev.switchboard.gateway.protocol.FrameException;
import dev.switchboard.platform.problem.SwitchboardException;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import org.springframework.http.HttpHeaders;
import org.springframework.http.ResponseEntity;
import org.springframework.web.reactive.socket.CloseStatus;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import tools.jackson.databind.JsonNode;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One WebSocket connection: its state machine (awaiting {@code connect} → connected → closing),
 * its subscriptions and its outbound queue. Nothing here outlives the socket: every piece of work
 * is part of the publisher {@link SessionHandler} returns, and {@link #cleanup()} detaches the
 * subscriptions when it ends. Sessions are stateless across connections: all a client needs to
 * resume anywhere is the resume points it was sent.
 *
 * <p>Frames before {@code connected}: the first frame must be {@code connect} (anything else:
 * {@code error unauthenticated} and close 4001); frames sent right behind it wait until the token
 * is checked. Requests then run concurrently (up to {@code maxInflight}), but subscribe and
 * unsubscribe take effect in the order they arrived: a subscription's slot is reserved (or
 * released) synchronously when its frame is read.
 *
 * <p>Credentials stay checked for the socket's whole life: when the token expires the socket gets
 * {@code error unauthenticated} and close 4001 (the client reconnects with a fresh token and its
 * resume points). Before that, a {@code connect} frame with a fresh token for the same tenant and
 * subject replaces the token in place (answered {@code connected}); subscriptions the new token no
 * longer allows end with an {@code error forbidden} naming the topic. When the registry reports a
 * change to the tenant or its client secrets, the token is verified again and the socket closed with
 * 4001 if it no longer verifies (tenant deleted, secret rotated past its grace period).
 */
final class Session implements SubscriptionListener {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Session.class);
    /** The end of a refused connect's message: what a socket takes. */
    private static final String ACCEPTED = "Accepted: " + ClientTokens.ACCEPTS + ".";
    /** Live-path stage: a {@code publish} frame read until it is forwarded to delivery-service (decode, checks, admission). */
    static final String STAGE_FRAME = "gateway.frame";

    private final String id = UUID.randomUUID().toString();
    private final SessionContext context;
    private final InetSocketAddress remote;
    private final Outbound outbound;
    private final Map<String, Subscription> subscriptions = new ConcurrentHashMap<>();
    private final Sinks.One<Boolean> authenticated = Sinks.one();
    private final Sinks.Empty<Void> terminated = Sinks.empty();
    private final AtomicBoolean connectSeen = new AtomicBoolean();
    private final AtomicBoolean closing = new AtomicBoolean();
    private volatile Caller.Jwt caller;
    /** The raw token {@link #caller} came from, verified again when the registry changes. */
    private volatile String token;
    private volatile TenantQuotas quotas;
    private volatile CloseStatus closeStatus = CloseStatus.NORMAL;
    private final long openedAt = System.nanoTime();
    private volatile long lastSeen = openedAt;
    /** Only touched by the shared clock's thread. */
    private long lastPingAt = openedAt;

    /** A subscription slot: reserved when the frame is read, its handle set once attached. */
    private static final class Subscription {
        private Fanout.Handle handle;
        private boolean cancelled;

        synchronized boolean attach(Fanout.Handle h) {
            if (cancelled) {
                return false;
            }
            handle = h;
            return true;
        }

        void cancel() {
            Fanout.Handle h;
            synchronized (this) {
                cancelled = true;
                h = handle;
            }
            if (h != null) {
                h.cancel();
            }
        }
    }

    /** @param remote the client's address (null when unknown): refused connect tokens count against it */
    Session(SessionContext context, InetSocketAddress remote) {
        this.context = context;
        this.remote = remote;
        this.outbound = new Outbound(context.properties().queueFrames(), context.properties().queueBytes(),
                context.sessions().framesOut::increment, context.fanout().liveWrites());
    }

    String id() {
        return id;
    }

    Outbound outbound() {
        return outbound;
    }

    CloseStatus closeStatus() {
        return closeStatus;
    }

    /** Completes once the session decided to close: its last frames are queued. */
    Mono<Void> terminated() {
        return terminated.asMono();
    }

    int subscriptionCount() {
        return subscriptions.size();
    }

    int queueDepth() {
        return outbound.depth();
    }

    // ---- inbound ----

    /** Any inbound frame (pongs included) shows the peer is alive. */
    void touch() {
        lastSeen = System.nanoTime();
    }

    /** A frame as Reactor Netty read it (continuations aggregated); valid only during this call. */
    Mono<Void> onMessage(WebSocketFrame message) {
        long read = System.nanoTime();
        context.sessions().framesIn.increment();
        if (closing.get()) {
            return Mono.empty();
        }
        if (message.rsv() != 0) {
            // No extension is ever agreed (no permessage-deflate), so no reserved bit may be set.
            close(new ServerFrame.Error(null, ErrorCode.INVALID_REQUEST, "A frame has reserved bits set; no extension was agreed.", null),
                    CloseCodes.PROTOCOL_ERROR);
            return Mono.empty();
        }
        if (message instanceof TextWebSocketFrame invalid && !ByteBufUtil.isText(invalid.content(), StandardCharsets.UTF_8)) {
            close(new ServerFrame.Error(null, ErrorCode.INVALID_REQUEST, "A text message is not valid UTF-8.", null),
                    CloseCodes.INVALID_PAYLOAD);
            return Mono.empty();
        }
        if (!(message instanceof TextWebSocketFrame text)) {
            if (message instanceof BinaryWebSocketFrame) {
                send(new ServerFrame.Error(null, ErrorCode.INVALID_REQUEST, "Frames are JSON text frames.", null));
            }
            return Mono.empty();
        }
        if (text.content().readableBytes() > context.properties().maxFrameBytes()) {
            // FrameLimit refuses these before they are read; this only backs it up.
            frameTooLarge();
            return Mono.empty();
        }
        ClientFrame frame;
        try {
            frame = context.codec().decode(text.text());
        } catch (FrameException e) {
            if (!connectSeen.get()) {
                return unauthenticated(e.id(), "The first frame must be a valid connect frame.");
            }
            send(new ServerFrame.Error(e.id(), e.code(), e.getMessage(), null));
            return Mono.empty();
        }
        if (frame instanceof ClientFrame.Connect connect) {
            return connect(connect);
        }
        if (!connectSeen.get()) {
            return unauthenticated(frame.id(), "The first frame must be connect.");
        }
        // Each request runs when the connect gate opens (at once, once connected); subscription slots are
        // reserved and released synchronously at that moment, so subscribe/unsubscribe keep the frames' order.
        Mono<Void> work = frame instanceof ClientFrame.Subscribe s ? subscribe(s)
                : frame instanceof ClientFrame.Unsubscribe u ? unsubscribe(u)
                : frame instanceof ClientFrame.Publish p ? Mono.defer(() -> publish(p, read))
                : Mono.fromRunnable(() -> send(new ServerFrame.Pong(frame.id())));
        return authenticated.asMono().flatMap(ok -> ok ? work : Mono.empty());
    }

    private Mono<Void> connect(ClientFrame.Connect frame) {
        if (!connectSeen.compareAndSet(false, true)) {
            return authenticated.asMono().flatMap(ok -> ok ? refresh(frame) : Mono.empty());
        }
        return context.tokens().verify(frame.token())
                .flatMap(jwt -> context.registry().quotas(jwt.tenant()).map(q -> Map.entry(jwt, q)))
                .doOnNext(auth -> {
                    Caller.Jwt jwt = auth.getKey();
                    if (!context.sessions().admit(jwt.tenant(), auth.getValue().maxConnections())) {
                        authenticated.tryEmitValue(false);
                        close(new ServerFrame.Error(frame.id(), ErrorCode.RATE_LIMITED,
                                "The tenant's connection quota (" + auth.getValue().maxConnections() + ") is used up.", null), CloseCodes.RATE_LIMITED);
                        return;
                    }
                    quotas = auth.getValue();
                    caller = jwt;
                    token = frame.token();
                    if (closing.get()) {
                        // The socket went while the token was being checked: cleanup may have missed the slot.
                        context.sessions().release(jwt.tenant());
                        caller = null;
                        authenticated.tryEmitValue(false);
                        return;
                    }
                    send(new ServerFrame.Connected(frame.id(), id, context.properties().pingInterval().toSeconds()));
                    authenticated.tryEmitValue(true);
                })
                .then()
                .onErrorResume(SwitchboardException.class, e -> {
                    authenticated.tryEmitValue(false);
                    if (e.code() == ErrorCode.UNAUTHENTICATED) {
                        context.authFailures().failed(remote);
                        return unauthenticated(frame.id(), detail(e) + " " + ACCEPTED);
                    }
                    close(new ServerFrame.Error(frame.id(), ErrorCode.UNAVAILABLE, "Credentials cannot be checked right now; retry shortly.", null),
                            CloseStatus.SERVICE_OVERLOAD.getCode());
                    return Mono.empty();
                });
    }

    /** A connect frame on a connected socket: a fresh token for the same tenant and subject. */
    private Mono<Void> refresh(ClientFrame.Connect frame) {
        Caller.Jwt current = caller;
        return context.tokens().verify(frame.token())
                .doOnNext(jwt -> {
                    if (!jwt.tenant().equals(current.tenant()) || !java.util.Objects.equals(jwt.subject(), current.subject())) {
                        send(new ServerFrame.Error(frame.id(), ErrorCode.FORBIDDEN,
                                "A refreshed token must be for the same tenant and subject; connect a new socket instead.", null));
                        return;
                    }
                    caller = jwt;
                    token = frame.token();
                    List<String> revoked;
                    synchronized (subscriptions) {
                        revoked = subscriptions.keySet().stream().filter(t -> !jwt.maySubscribe(t)).toList();
                    }
                    for (String topic : revoked) {
                        Subscription slot = subscriptions.remove(topic);
                        if (slot != null) {
                            slot.cancel();
                            outbound.removePositions(topic);
                            send(new ServerFrame.Error(null, ErrorCode.FORBIDDEN, "The refreshed token may not subscribe to '" + topic + "'.", topic));
                        }
                    }
                    send(new ServerFrame.Connected(frame.id(), id, context.properties().pingInterval().toSeconds()));
                })
                .then()
                // A refresh that fails leaves the socket as it was: its current token still holds until it expires.
                .onErrorResume(SwitchboardException.class, e -> error(frame.id(), e.code(),
                        e.code() == ErrorCode.UNAUTHENTICATED ? detail(e) + " " + ACCEPTED : detail(e)));
    }

    /** The registry changed the tenant or its secrets: is the token still good? */
    Mono<Void> revalidate() {
        String current = token;
        if (current == null || closing.get()) {
            return Mono.empty();
        }
        return context.tokens().verify(current)
                .then()
                .onErrorResume(SwitchboardException.class, e -> {
                    // Unavailable: the registry cannot say; keep the socket, the next change checks again.
                    if (e.code() == ErrorCode.UNAUTHENTICATED && current.equals(token)) {
                        close(new ServerFrame.Error(null, ErrorCode.UNAUTHENTICATED,
                                "The credentials are no longer valid: " + detail(e), null), CloseCodes.UNAUTHENTICATED);
                    }
                    return Mono.empty();
                });
    }

    /** The tenant the socket is connected for, or null before {@code connected}. */
    String tenant() {
        Caller.Jwt c = caller;
        return c == null ? null : c.tenant();
    }

    private Mono<Void> unauthenticated(Long requestId, String message) {
        authenticated.tryEmitValue(false);
        close(new ServerFrame.Error(requestId, ErrorCode.UNAUTHENTICATED, message, null), CloseCodes.UNAUTHENTICATED);
        return Mono.empty();
    }

    private Mono<Void> subscribe(ClientFrame.Subscribe frame) {
        String topic = frame.topic();
        // Runs when the connect gate opens; the slot is reserved synchronously then, in frame order.
        return Mono.defer(() -> {
            Caller.Jwt c = caller;
            if (!TopicNames.isValidTopicName(topic)) {
                return error(frame.id(), ErrorCode.INVALID_REQUEST, "Invalid topic name '" + abbreviate(topic) + "'.");
            }
            if (!c.maySubscribe(topic)) {
                return error(frame.id(), ErrorCode.FORBIDDEN, "This token may not subscribe to '" + topic + "'.");
            }
            Subscription slot = new Subscription();
            synchronized (subscriptions) {
                if (subscriptions.containsKey(topic)) {
                    return error(frame.id(), ErrorCode.CONFLICT, "Already subscribed to '" + topic + "'.");
                }
                int max = quotas.maxSubscriptionsPerConnection();
                if (subscriptions.size() >= max) {
                    return error(frame.id(), ErrorCode.RATE_LIMITED, "At most " + max + " subscriptions per connection.");
                }
                subscriptions.put(topic, slot);
            }
            return context.registry().resolveTopic(c.tenant(), topic)
                    .map(resolved -> java.util.Optional.ofNullable(
                            frame.after() == null ? null : ResumePoints.parse(frame.after(), resolved.settings().partitions())))
                    .doOnNext(after -> {
                        Fanout.Handle handle = context.fanout().subscribe(c.tenant(), topic, after.orElse(null), frame.id(), outbound, this);
                        if (!slot.attach(handle)) {
                            handle.cancel();
                        }
                    })
                    .onErrorResume(e -> {
                        subscriptions.remove(topic, slot);
                        if (e instanceof IllegalArgumentException) {
                            return error(frame.id(), ErrorCode.INVALID_REQUEST, e.getMessage()).then(Mono.empty());
                        }
                        if (!(e instanceof SwitchboardException)) {
                            log.warn("subscribe to {} failed unexpectedly", topic, e);
                        }
                        SwitchboardException se = e instanceof SwitchboardException s ? s
                                : new SwitchboardException(ErrorCode.UNAVAILABLE, "The subscription cannot be made right now; retry shortly.");
                        return error(frame.id(), se.code(), detail(se)).then(Mono.empty());
                    })
                    .then();
        });
    }

    private Mono<Void> unsubscribe(ClientFrame.Unsubscribe frame) {
        return Mono.fromRunnable(() -> {
            Subscription slot;
            synchronized (subscriptions) {
                slot = subscriptions.remove(frame.topic());
            }
            if (slot == null) {
                send(new ServerFrame.Error(frame.id(), ErrorCode.NOT_FOUND, "Not subscribed to '" + abbreviate(frame.topic()) + "'.", null));
                return;
            }
            slot.cancel();
            outbound.removePositions(frame.topic());
            send(new ServerFrame.Unsubscribed(frame.id(), frame.topic()));
        });
    }

    /** @param read when the frame was read, for the {@value #STAGE_FRAME} stage */
    private Mono<Void> publish(ClientFrame.Publish frame, long read) {
        String topic = frame.topic();
        if (!TopicNames.isValidTopicName(topic)) {
            return error(frame.id(), ErrorCode.INVALID_REQUEST, "Invalid topic name '" + abbreviate(topic) + "'.");
        }
        if (!caller.mayPublish(topic)) {
            return error(frame.id(), ErrorCode.FORBIDDEN, "This token may not publish to '" + topic + "'.");
        }
        HttpHeaders headers = new HttpHeaders();
        headers.set(HttpHeaders.CONTENT_TYPE, Headers.CLOUDEVENTS_JSON);
        byte[] event = frame.event().utf8();
        return context.admission().admit(caller.tenant(), EdgeAdmission.Transport.WEBSOCKET, true)
                .doOnNext(admitted -> context.delivery().stages().since(STAGE_FRAME, read))
                .flatMap(admitted -> context.delivery().publish(caller.tenant(), topic, headers, event)
                        .doFinally(signal -> admitted.release()))
                .doOnNext(response -> published(frame, response))
                .onErrorResume(SwitchboardException.class, e -> refused(frame, e))
                .then();
    }

    /** A publish turned away (at the edge or by delivery): {@code slow_down} first when it says when to retry. */
    private Mono<ResponseEntity<byte[]>> refused(ClientFrame.Publish frame, SwitchboardException e) {
        Object retryAfterMs = e.getBody().getProperties() == null ? null : e.getBody().getProperties().get("retryAfterMs");
        if (e.code() == ErrorCode.RATE_LIMITED && retryAfterMs instanceof Number ms) {
            send(new ServerFrame.SlowDown(frame.topic(), ms.longValue()));
        }
        return error(frame.id(), e.code(), detail(e)).then(Mono.empty());
    }

    private void published(ClientFrame.Publish frame, ResponseEntity<byte[]> response) {
        JsonNode body;
        try {
            body = context.json().readTree(response.getBody() == null ? new byte[0] : response.getBody());
        } catch (RuntimeException e) {
            body = context.json().createObjectNode();
        }
        if (response.getStatusCode().is2xxSuccessful()) {
            send(new ServerFrame.Published(frame.id(), frame.topic(), body.path("id").asString(null), body.path("seq").asLong(),
                    body.path("partition").asInt(), body.path("duplicate").asBoolean(false)));
            return;
        }
        ErrorCode code = ErrorCode.fromCode(body.path("code").asString("")).orElse(ErrorCode.UNAVAILABLE);
        String detail = body.path("detail").asString(code.title());
        if (response.getStatusCode().value() == 429) {
            // Delivery's problem says to the millisecond (retryAfterMs); Retry-After only in whole seconds.
            long ms = body.path("retryAfterMs").asLong(-1);
            if (ms < 0) {
                String retryAfter = response.getHeaders().getFirst(Headers.RETRY_AFTER);
                try {
                    ms = retryAfter == null ? 1000 : Math.max(0, Long.parseLong(retryAfter.trim())) * 1000;
                } catch (NumberFormatException ignored) {
                    ms = 1000;
                }
            }
            send(new ServerFrame.SlowDown(frame.topic(), ms));
        }
        send(new ServerFrame.Error(frame.id(), code, detail, null));
    }

    private Mono<Void> error(Long requestId, ErrorCode code, String message) {
        send(new ServerFrame.Error(requestId, code, message, null));
        return Mono.empty();
    }

    // ---- what fan-out tells us ----

    @Override
    public void subscribed(String topic, Long requestId, Map<Integer, Long> head, Map<Integer, Long> start) {
        outbound.startPositions(topic, start);
        send(new ServerFrame.Subscribed(requestId, topic, head));
    }

    @Override
    public void failed(String topic, Long requestId, ErrorCode code, String message) {
        Subscription slot = subscriptions.remove(topic);
        if (slot != null) {
            outbound.removePositions(topic);
        }
        send(new ServerFrame.Error(requestId, code, message, topic));
    }

    @Override
    public void lagging() {
        Caller.Jwt c = caller;
        if (c != null && !closing.get()) {
            context.sessions().lagging(c.tenant());
        }
        reconnect(ServerFrame.Reason.LAGGING, 0, CloseCodes.LAGGING);
    }

    // ---- outbound and closing ----

    /** Queues a frame; a full queue means this socket is lagging. */
    void send(ServerFrame frame) {
        OutFrame out = OutFrame.text(context.codec().encode(frame));
        boolean queued = outbound.offer(out);
        out.release();
        if (!queued && !outbound.isFinished()) {
            lagging();
        }
    }

    /**
     * The shared clock (every {@link Sessions#TICK}): the connect deadline, the token's expiry (a
     * refresh moves it), then a ping each ping interval.
     */
    void tick(long now, Instant wallNow) {
        Caller.Jwt c = caller;
        if (c == null && !closing.get() && now - openedAt >= context.properties().connectTimeout().toNanos()) {
            connectDeadline();
        }
        if (c != null && !closing.get() && !wallNow.isBefore(c.expiresAt())) {
            close(new ServerFrame.Error(null, ErrorCode.UNAUTHENTICATED,
                    "The token expired; connect again with a fresh token.", null), CloseCodes.UNAUTHENTICATED);
            return;
        }
        if (now - lastPingAt >= context.properties().pingInterval().toNanos()) {
            lastPingAt = now;
            heartbeat();
        }
    }

    /** Ping, or close a peer that has been silent too long. */
    void heartbeat() {
        long silentNanos = System.nanoTime() - lastSeen;
        if (silentNanos > context.properties().idleTimeout().toNanos()) {
            if (outbound.depth() > 0) {
                // Silent and not reading what it is sent: a stalled reader, so lagging, with its resume points.
                lagging();
            } else {
                closeWith(CloseStatus.GOING_AWAY.getCode(), false, r -> null);
            }
            return;
        }
        if (!outbound.offer(OutFrame.PING) && !outbound.isFinished()) {
            lagging();
        }
    }

    /** A client message over {@code maxFrameBytes}: the socket closes with 4009. */
    void frameTooLarge() {
        close(new ServerFrame.Error(null, ErrorCode.PAYLOAD_TOO_LARGE,
                "A frame may have at most " + context.properties().maxFrameBytes() + " bytes.", null), CloseCodes.FRAME_TOO_LARGE);
    }

    /** At the connect deadline. */
    void connectDeadline() {
        if (caller == null) {
            unauthenticated(null, "No connect frame within " + context.properties().connectTimeout().toSeconds() + " s.");
        }
    }

    void shutdown(long delayMs) {
        reconnect(ServerFrame.Reason.SHUTDOWN, delayMs, CloseCodes.SERVICE_RESTART);
    }

    private void reconnect(ServerFrame.Reason reason, long delayMs, int code) {
        closeWith(code, true, resume -> OutFrame.text(context.codec().encode(new ServerFrame.Reconnect(reason, delayMs, resume))));
    }

    private void close(ServerFrame.Error error, int code) {
        closeWith(code, false, resume -> OutFrame.text(context.codec().encode(error)));
    }

    private void closeWith(int code, boolean discard, java.util.function.Function<Map<String, Map<Integer, Long>>, OutFrame> last) {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        log.debug("socket {} closing with {}", id, code);
        closeStatus = new CloseStatus(code);
        outbound.finish(discard, last);
        terminated.tryEmitEmpty();
    }

    /** When the socket is gone: leave every topic, give the connection slot back. */
    void cleanup() {
        closing.set(true);
        outbound.abandon();
        terminated.tryEmitEmpty();
        synchronized (subscriptions) {
            subscriptions.values().forEach(Subscription::cancel);
            subscriptions.clear();
        }
        Caller.Jwt c = caller;
        if (c != null) {
            context.sessions().release(c.tenant());
        }
        authenticated.tryEmitValue(false);
    }

    private static String detail(SwitchboardException e) {
        String detail = e.getBody().getDetail();
        return detail == null ? e.code().title() : detail;
    }

    private static String abbreviate(String s) {
        return s.length() > 140 ? s.substring(0, 140) + "…" : s;
    }
}
