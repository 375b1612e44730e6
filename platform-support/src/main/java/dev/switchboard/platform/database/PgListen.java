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

    /**
     * The payloads of {@code NOTIFY channel} from the moment {@code LISTEN} has run. The flux
     * ERRORS when the connection closes or fails, so callers can {@code retryWhen} to reconnect.
     * {@code onListening} runs once LISTEN is in effect (before any payload).
     */
    public static Flux<String> payloads(ConnectionFactory factory, String channel, Runnable onListening) {
        if (!channel.matches("[a-z_][a-z0-9_]*")) {
            throw new IllegalArgumentException("channel must be a plain identifier: " + channel);
        }
        ConnectionFactory direct = unpooled(factory);
        return Flux.usingWhen(
                Mono.from(direct.create()).cast(PostgresqlConnection.class),
                connection -> connection.createStatement("LISTEN " + channel).execute()
                        .flatMap(PostgresqlResult::getRowsUpdated)
                        .then(Mono.fromRunnable(onListening))
                        .thenMany(connection.getNotifications())
                        .map(n -> n.getParameter() == null ? "" : n.getParameter())
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
