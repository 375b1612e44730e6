package dev.switchboard.platform.database;

import io.r2dbc.postgresql.api.PostgresqlConnection;
import io.r2dbc.postgresql.api.PostgresqlResult;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Wrapped;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * PostgreSQL {@code LISTEN} on a dedicated connection, outside the pool: a listening connection
 * lives as long as the instance, and must not take a pool slot or be handed to anyone else.
 */
public final class PgListen {

    private PgListen() {
    }

    /** The first element of every {@link #payloads} flux: LISTEN is now in effect. */
    public static final String LISTENING = "";

    /**
     * {@link #LISTENING} once {@code LISTEN} is in effect — anything committed before it may have
     * been missed, so callers re-read then — followed by the payloads of {@code NOTIFY channel}.
     * The flux ERRORS when the connection closes or fails, so callers can {@code retryWhen} to
     * reconnect.
     */
    public static Flux<String> payloads(ConnectionFactory factory, String channel) {
        if (!channel.matches("[a-z_][a-z0-9_]*")) {
            throw new IllegalArgumentException("channel must be a plain identifier: " + channel);
        }
        ConnectionFactory direct = unpooled(factory);
        return Flux.usingWhen(
                Mono.from(direct.create()).cast(PostgresqlConnection.class),
                connection -> connection.createStatement("LISTEN " + channel).execute()
                        .flatMap(PostgresqlResult::getRowsUpdated)
                        .thenMany(connection.getNotifications()
                                .map(n -> n.getParameter() == null ? LISTENING : n.getParameter())
                                .startWith(LISTENING))
                        .concatWith(Mono.error(() -> new IllegalStateException("LISTEN " + channel + " connection closed"))),
                connection -> Mono.from(connection.close()));
    }

    /** The factory under any pool or proxy wrappers. */
    public static ConnectionFactory unpooled(ConnectionFactory factory) {
        ConnectionFactory current = factory;
        while (current instanceof Wrapped<?> wrapped && wrapped.unwrap() instanceof ConnectionFactory inner && inner != current) {
            current = inner;
        }
        return current;
    }
}
