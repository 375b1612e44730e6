package dev.switchboard.platform.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import reactor.netty.http.server.HttpServer;

import java.util.List;

/** Handlers of our own in a Reactor Netty server's connection pipelines. */
public final class ServerPipeline {

    /** The platform's handlers that only HTTP/1.1 exchanges need: an upgraded (WebSocket) connection can drop them. */
    public static final List<String> HTTP_ONLY = List.of(DecodingFailureProblems.HANDLER, KeepAliveReadRearm.HANDLER);

    private ServerPipeline() {
    }

    /** Removes the named handlers the channel's pipeline has; on the channel's event loop. */
    public static void removeIfPresent(Channel channel, List<String> names) {
        ChannelPipeline pipeline = channel.pipeline();
        for (String name : names) {
            if (pipeline.get(name) != null) {
                pipeline.remove(name);
            }
        }
    }

    /**
     * {@code server} with {@code handler} placed after Reactor Netty's {@code existing} handler on
     * every new connection that has one (an HTTP/1.1 connection has its codec and traffic handler;
     * other protocols may not), once.
     */
    public static HttpServer addAfter(HttpServer server, String existing, String name, ChannelHandler handler) {
        return server.doOnChannelInit((observer, channel, remoteAddress) -> {
            ChannelPipeline pipeline = channel.pipeline();
            if (pipeline.get(existing) != null && pipeline.get(name) == null) {
                pipeline.addAfter(existing, name, handler);
            }
        });
    }

    /** As {@link #addAfter(HttpServer, String, String, ChannelHandler)}, with a new handler for every connection (handlers that keep state). */
    public static HttpServer addAfter(HttpServer server, String existing, String name, java.util.function.Supplier<ChannelHandler> handler) {
        return server.doOnChannelInit((observer, channel, remoteAddress) -> {
            ChannelPipeline pipeline = channel.pipeline();
            if (pipeline.get(existing) != null && pipeline.get(name) == null) {
                pipeline.addAfter(existing, name, handler.get());
            }
        });
    }
}
