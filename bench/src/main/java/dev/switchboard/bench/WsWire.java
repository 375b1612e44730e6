package dev.switchboard.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * What the load client says on the wire to each system of {@code bench/ws.sh}: the frames that make
 * a socket a subscriber or a publisher, how one message is published, and how a delivery is found in
 * what arrives. Every system carries the same {@value #PAYLOAD_BYTES}-byte JSON payload
 * {@code {"t":<due nanoTime>,"i":<index>,"p":"xx…"}}; a delivery is recognised by its {@code "t":}
 * and {@code "i":} fields wherever they sit in the frame (Switchboard wraps the payload in an
 * {@code event} frame as the event's {@code data}, NATS in a {@code MSG}).
 */
abstract class WsWire {

    static final int PAYLOAD_BYTES = 200;
    static final String TOPIC = "bench.ws";

    private static final byte[] T_KEY = "\"t\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] I_KEY = "\"i\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ID_KEY = "\"id\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PUBLISHED = "\"op\":\"published\"".getBytes(StandardCharsets.US_ASCII);

    /** Called on the connection's event loop for what it needs to tell the load client. */
    interface Sink {

        /** One message delivered: its due time (System.nanoTime of this JVM) and index. */
        void delivery(long dueNanos, long index);

        /** The server acknowledged publish {@code index} (Switchboard's {@code published}: committed). */
        default void acknowledged(long index) {
        }

        /** The socket is subscribed (or, for the publisher, may publish). */
        void ready();

        /** The server answered something with an error. */
        void error(String text);

        /** A frame to send back (a NATS PONG, Switchboard's next handshake step). */
        void send(WebSocketFrame frame);
    }

    /** Per-connection protocol state. */
    abstract static class Session {

        /** Frames to send right after the WebSocket handshake. */
        abstract void open(Sink sink, boolean publisher);

        /** One data frame's content (the buffer is released by the caller). */
        abstract void frame(ByteBuf content, Sink sink);

        void close() {
        }
    }

    abstract Session session();

    /** Where to publish over REST instead of on the publisher socket; null: on the socket. */
    record Rest(String baseUrl, String path, String apiKey, String contentType) {
    }

    Rest rest() {
        return null;
    }

    /** The REST body that publishes message {@code index} (only when {@link #rest()} is set). */
    byte[] restBody(long index, String payload) {
        throw new UnsupportedOperationException();
    }

    /** The frame that publishes message {@code index} with payload {@code payload}. */
    abstract WebSocketFrame publish(long index, String payload);

    static String payload(long dueNanos, long index) {
        String head = "{\"t\":" + dueNanos + ",\"i\":" + index + ",\"p\":\"";
        String tail = "\"}";
        return head + "x".repeat(Math.max(1, PAYLOAD_BYTES - head.length() - tail.length())) + tail;
    }

    /** Finds {@code "t":} and {@code "i":} in {@code buf[from, to)}; true and both delivered when found. */
    static boolean delivery(ByteBuf buf, int from, int to, Sink sink) {
        int t = find(buf, from, to, T_KEY);
        if (t < 0) {
            return false;
        }
        int i = find(buf, t, to, I_KEY);
        if (i < 0) {
            return false;
        }
        sink.delivery(number(buf, t + T_KEY.length, to), number(buf, i + I_KEY.length, to));
        return true;
    }

    private static int find(ByteBuf buf, int from, int to, byte[] key) {
        outer:
        for (int p = from; p <= to - key.length; p++) {
            for (int k = 0; k < key.length; k++) {
                if (buf.getByte(p + k) != key[k]) {
                    continue outer;
                }
            }
            return p;
        }
        return -1;
    }

    private static long number(ByteBuf buf, int from, int to) {
        long v = 0;
        boolean negative = false;
        int p = from;
        if (p < to && buf.getByte(p) == '-') {
            negative = true;
            p++;
        }
        for (; p < to; p++) {
            byte b = buf.getByte(p);
            if (b < '0' || b > '9') {
                break;
            }
            v = v * 10 + (b - '0');
        }
        return negative ? -v : v;
    }

    /** Node's {@code ws} server and the Go hub: a socket is a subscriber as soon as it is open; a message is the payload itself. */
    static final class Broadcast extends WsWire {

        @Override
        Session session() {
            return new Session() {
                @Override
                void open(Sink sink, boolean publisher) {
                    sink.ready();
                }

                @Override
                void frame(ByteBuf content, Sink sink) {
                    delivery(content, content.readerIndex(), content.writerIndex(), sink);
                }
            };
        }

        @Override
        WebSocketFrame publish(long index, String payload) {
            return new TextWebSocketFrame(payload);
        }
    }

    /**
     * NATS' text protocol over its WebSocket listener (binary frames that carry any slice of the
     * protocol stream): {@code CONNECT}, {@code SUB}, then {@code PING} — its {@code PONG} says the
     * subscription is in place; the publisher sends {@code PUB}; the server's {@code PING}s are answered.
     */
    static final class Nats extends WsWire {

        private static final String CONNECT = "CONNECT {\"verbose\":false,\"pedantic\":false,\"lang\":\"java\",\"version\":\"bench\",\"protocol\":1}\r\n";

        @Override
        Session session() {
            return new Session() {
                private final ByteBuf pending = Unpooled.buffer(4096);
                private boolean ready;

                @Override
                void open(Sink sink, boolean publisher) {
                    sink.send(binary(CONNECT + (publisher ? "" : "SUB " + TOPIC + " 1\r\n") + "PING\r\n"));
                }

                @Override
                void frame(ByteBuf content, Sink sink) {
                    pending.writeBytes(content);
                    while (true) {
                        int start = pending.readerIndex();
                        int eol = pending.indexOf(start, pending.writerIndex(), (byte) '\n');
                        if (eol < 0) {
                            break;
                        }
                        int lineEnd = eol > start && pending.getByte(eol - 1) == '\r' ? eol - 1 : eol;
                        if (startsWith(pending, start, lineEnd, "MSG ")) {
                            // MSG <subject> <sid> [reply-to] <#bytes>
                            int size = (int) lastNumber(pending, start, lineEnd);
                            int payloadStart = eol + 1;
                            if (pending.writerIndex() < payloadStart + size + 2) {
                                break; // the rest of the message is in a later frame
                            }
                            delivery(pending, payloadStart, payloadStart + size, sink);
                            pending.readerIndex(payloadStart + size + 2);
                            continue;
                        }
                        if (startsWith(pending, start, lineEnd, "PING")) {
                            sink.send(binary("PONG\r\n"));
                        } else if (startsWith(pending, start, lineEnd, "PONG")) {
                            if (!ready) {
                                ready = true;
                                sink.ready();
                            }
                        } else if (startsWith(pending, start, lineEnd, "-ERR")) {
                            sink.error(pending.toString(start, lineEnd - start, StandardCharsets.US_ASCII));
                        }
                        pending.readerIndex(eol + 1);
                    }
                    pending.discardReadBytes();
                }

                @Override
                void close() {
                    pending.release();
                }
            };
        }

        @Override
        WebSocketFrame publish(long index, String payload) {
            return binary("PUB " + TOPIC + " " + payload.length() + "\r\n" + payload + "\r\n");
        }

        private static WebSocketFrame binary(String text) {
            return new BinaryWebSocketFrame(Unpooled.wrappedBuffer(text.getBytes(StandardCharsets.US_ASCII)));
        }

        private static boolean startsWith(ByteBuf buf, int from, int to, String prefix) {
            if (to - from < prefix.length()) {
                return false;
            }
            for (int k = 0; k < prefix.length(); k++) {
                if (buf.getByte(from + k) != prefix.charAt(k)) {
                    return false;
                }
            }
            return true;
        }

        private static long lastNumber(ByteBuf buf, int from, int to) {
            int p = to;
            while (p > from && buf.getByte(p - 1) >= '0' && buf.getByte(p - 1) <= '9') {
                p--;
            }
            return number(buf, p, to);
        }
    }

    /**
     * Switchboard's {@code /v1/ws} (PROTOCOL.md): {@code connect} with the client JWT, then
     * {@code subscribe} (new events only); the publisher is a backend publishing over REST with an
     * API key, or (when asked) a socket sending {@code publish} frames as a browser does. Deliveries are {@code event} frames with the payload as
     * the event's {@code data}.
     */
    static final class Switchboard extends WsWire {

        /** Publish frame ids are message index + this (ids 1 and 2 are the handshake's). */
        static final long ID_OFFSET = 10;
        /** Event ids unique across the run (every rate point restarts its indexes at 0; a repeated id would be deduplicated). */
        private static final java.util.concurrent.atomic.AtomicLong IDS = new java.util.concurrent.atomic.AtomicLong();
        private static final String ID_PREFIX = "ws-" + Long.toHexString(System.nanoTime()) + "-";

        private final String token;
        private final Rest rest;

        /** @param rest where a backend publishes ({@code POST /v1/topics/{t}/events} with an API key); null: {@code publish} frames */
        Switchboard(String token, Rest rest) {
            this.token = token;
            this.rest = rest;
        }

        @Override
        Rest rest() {
            return rest;
        }

        @Override
        byte[] restBody(long index, String payload) {
            return ("{\"specversion\":\"1.0\",\"id\":\"" + ID_PREFIX + IDS.incrementAndGet() + "\",\"source\":\"/bench/ws\","
                    + "\"type\":\"bench.sample\",\"datacontenttype\":\"application/json\",\"data\":" + payload + "}")
                    .getBytes(StandardCharsets.UTF_8);
        }

        @Override
        Session session() {
            return new Session() {
                private boolean publisher;

                @Override
                void open(Sink sink, boolean publisher) {
                    this.publisher = publisher;
                    sink.send(new TextWebSocketFrame("{\"op\":\"connect\",\"id\":1,\"token\":\"" + token + "\"}"));
                }

                @Override
                void frame(ByteBuf content, Sink sink) {
                    if (delivery(content, content.readerIndex(), content.writerIndex(), sink)) {
                        return;
                    }
                    if (publisher && find(content, content.readerIndex(), content.writerIndex(), PUBLISHED) >= 0) {
                        int id = find(content, content.readerIndex(), content.writerIndex(), ID_KEY);
                        if (id >= 0) {
                            sink.acknowledged(number(content, id + ID_KEY.length, content.writerIndex()) - ID_OFFSET);
                        }
                        return;
                    }
                    String text = content.toString(StandardCharsets.UTF_8);
                    if (text.contains("\"op\":\"connected\"")) {
                        if (publisher) {
                            sink.ready();
                        } else {
                            sink.send(new TextWebSocketFrame("{\"op\":\"subscribe\",\"id\":2,\"topic\":\"" + TOPIC + "\"}"));
                        }
                    } else if (text.contains("\"op\":\"subscribed\"")) {
                        sink.ready();
                    } else if (text.contains("\"op\":\"error\"") || text.contains("\"op\":\"reconnect\"") || text.contains("\"op\":\"slow_down\"")) {
                        sink.error(text.length() > 300 ? text.substring(0, 300) : text);
                    }
                }
            };
        }

        @Override
        WebSocketFrame publish(long index, String payload) {
            return new TextWebSocketFrame(String.format(Locale.ROOT,
                    "{\"op\":\"publish\",\"id\":%d,\"topic\":\"%s\",\"event\":{\"type\":\"bench.sample\",\"data\":%s}}", index + ID_OFFSET, TOPIC, payload));
        }
    }
}
