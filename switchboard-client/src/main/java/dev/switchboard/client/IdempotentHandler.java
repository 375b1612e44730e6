package dev.switchboard.client;

import dev.switchboard.contracts.envelope.Event;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Result;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The idempotent consumer: a handler whose writes take effect once per event however often the
 * event is delivered (at-least-once delivery, a {@code seek} back, a crash between commit and
 * ack), because it remembers, in the consumer's own PostgreSQL database, the highest {@code seq}
 * it has applied per key — and commits that in the same transaction as the handler's own writes.
 *
 * <p><b>The key</b> of an event is ({@code tenant}, {@code topic}, {@code partition},
 * {@code causationid}); an event without a {@code causationid} is keyed by its own {@code id}
 * instead ({@code key_kind} {@code 'causationid'} or {@code 'id'}, so the two never collide).
 *
 * <p><b>Per event</b>, in one transaction on a connection from the given factory: upsert the key's
 * row to the event's {@code seq} only if the stored {@code max_seq} is lower (or there is none).
 * When that changed a row, the handler runs on the same connection, inside the same transaction,
 * and everything commits together; when it changed nothing (the event's {@code seq} ≤ the stored
 * highest for its key) the handler is not called, the transaction commits nothing, and the
 * returned Mono completes — so the consumer acks the event. When the handler fails (or the commit
 * does) the transaction rolls back, the key's row included, and the error goes to the consumer,
 * which nacks. Two deliveries of one event running at once serialise on the key's row lock; the
 * second sees the first's commit and skips.
 *
 * <p><b>Order matters</b>: an event whose seq is lower than one already applied for its key is
 * skipped even if it was never applied itself. Events sharing a {@code causationid} must therefore
 * be handled in seq order: give them that id as {@code partitionkey} and consume with
 * {@code orderedByKey}, or with {@code concurrency} 1. Events keyed by their own id have no such
 * constraint.
 *
 * <p>The table ({@link #ddl(String)}; {@link #createTableIfMissing} runs it; or put it in your own
 * migrations):
 * <pre>
 * CREATE TABLE IF NOT EXISTS switchboard_processed (
 *     tenant     text        NOT NULL,
 *     topic      text        NOT NULL,
 *     partition  integer     NOT NULL,
 *     key_kind   text        NOT NULL CHECK (key_kind IN ('causationid', 'id')),
 *     key        text        NOT NULL,
 *     max_seq    bigint      NOT NULL,
 *     event_id   text        NOT NULL,
 *     updated_at timestamptz NOT NULL DEFAULT now(),
 *     PRIMARY KEY (tenant, topic, partition, key_kind, key))
 * </pre>
 * {@code event_id} is the id of the event that set {@code max_seq}, for people reading the table.
 * Rows are never deleted by this class; keys of finished flows may be removed by age
 * ({@code updated_at}) once no redelivery of them can come any more (past the topic's retention).
 */
public final class IdempotentHandler implements Function<Event, Mono<Void>> {

    public static final String DEFAULT_TABLE = "switchboard_processed";
    private static final Pattern TABLE_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}(\\.[a-z_][a-z0-9_]{0,62})?");

    private final ConnectionFactory connections;
    private final String table;
    private final BiFunction<Event, Connection, Mono<Void>> handler;
    private final String claimSql;

    private IdempotentHandler(ConnectionFactory connections, String table,
                              BiFunction<Event, Connection, Mono<Void>> handler) {
        this.connections = Objects.requireNonNull(connections, "connectionFactory");
        this.table = checkTable(table);
        this.handler = Objects.requireNonNull(handler, "handler");
        this.claimSql = "INSERT INTO " + this.table + " AS p (tenant, topic, partition, key_kind, key, max_seq, event_id)"
                + " VALUES ($1, $2, $3, $4, $5, $6, $7)"
                + " ON CONFLICT (tenant, topic, partition, key_kind, key) DO UPDATE"
                + " SET max_seq = EXCLUDED.max_seq, event_id = EXCLUDED.event_id, updated_at = now()"
                + " WHERE p.max_seq < EXCLUDED.max_seq";
    }

    /**
     * A handler for {@link SwitchboardClient#consume} that runs {@code handler} at most once per
     * event (see the class comment), keeping its state in {@value #DEFAULT_TABLE}. The handler
     * must make its writes on the connection it is given, and must not commit, roll back or close
     * it.
     */
    public static IdempotentHandler wrap(ConnectionFactory connectionFactory,
                                         BiFunction<Event, Connection, Mono<Void>> handler) {
        return new IdempotentHandler(connectionFactory, DEFAULT_TABLE, handler);
    }

    /** {@link #wrap(ConnectionFactory, BiFunction)} with a table of your own naming ({@code [schema.]name}, lower case). */
    public static IdempotentHandler wrap(ConnectionFactory connectionFactory, String table,
                                         BiFunction<Event, Connection, Mono<Void>> handler) {
        return new IdempotentHandler(connectionFactory, table, handler);
    }

    /** The DDL of the table, {@code CREATE TABLE IF NOT EXISTS}. */
    public static String ddl(String table) {
        return "CREATE TABLE IF NOT EXISTS " + checkTable(table) + " ("
                + "tenant text NOT NULL, "
                + "topic text NOT NULL, "
                + "partition integer NOT NULL, "
                + "key_kind text NOT NULL CHECK (key_kind IN ('causationid', 'id')), "
                + "key text NOT NULL, "
                + "max_seq bigint NOT NULL, "
                + "event_id text NOT NULL, "
                + "updated_at timestamptz NOT NULL DEFAULT now(), "
                + "PRIMARY KEY (tenant, topic, partition, key_kind, key))";
    }

    /** Creates {@value #DEFAULT_TABLE} unless it exists. */
    public static Mono<Void> createTableIfMissing(ConnectionFactory connectionFactory) {
        return createTableIfMissing(connectionFactory, DEFAULT_TABLE);
    }

    /** Creates the table unless it exists. */
    public static Mono<Void> createTableIfMissing(ConnectionFactory connectionFactory, String table) {
        String ddl = ddl(table);
        return Mono.usingWhen(Mono.from(connectionFactory.create()),
                connection -> Flux.from(connection.createStatement(ddl).execute())
                        .flatMap(Result::getRowsUpdated)
                        .then(),
                Connection::close);
    }

    /** Handles the event at most once; see {@link #process(Event)}. */
    @Override
    public Mono<Void> apply(Event event) {
        return process(event).then();
    }

    /**
     * Handles the event unless its key has seen this seq or a higher one: {@code true} when the
     * handler ran and its writes committed, {@code false} when the event was skipped.
     */
    public Mono<Boolean> process(Event event) {
        Objects.requireNonNull(event, "event");
        if (event.seq() == null || event.id() == null) {
            return Mono.error(new IllegalArgumentException("an event as delivered has a seq and an id"));
        }
        return Mono.usingWhen(Mono.from(connections.create()),
                connection -> Mono.from(connection.beginTransaction())
                        .then(claim(connection, event))
                        .flatMap(claimed -> claimed
                                ? Mono.defer(() -> Objects.requireNonNull(handler.apply(event, connection),
                                        "the handler returned null")).thenReturn(true)
                                : Mono.just(false))
                        .flatMap(applied -> Mono.from(connection.commitTransaction()).thenReturn(applied)),
                Connection::close,
                (connection, error) -> rollbackAndClose(connection),
                IdempotentHandler::rollbackAndClose);
    }

    private Mono<Boolean> claim(Connection connection, Event event) {
        boolean byCausation = event.causationId() != null && !event.causationId().isEmpty();
        return Flux.from(connection.createStatement(claimSql)
                        .bind("$1", event.tenant() == null ? "" : event.tenant())
                        .bind("$2", event.topic() == null ? "" : event.topic())
                        .bind("$3", event.partition() == null ? 0 : event.partition())
                        .bind("$4", byCausation ? "causationid" : "id")
                        .bind("$5", byCausation ? event.causationId() : event.id())
                        .bind("$6", event.seq())
                        .bind("$7", event.id())
                        .execute())
                .flatMap(Result::getRowsUpdated)
                .reduce(0L, Long::sum)
                .map(rows -> rows > 0);
    }

    private static Mono<Void> rollbackAndClose(Connection connection) {
        return Mono.from(connection.rollbackTransaction())
                .onErrorResume(e -> Mono.empty())
                .then(Mono.from(connection.close()));
    }

    private static String checkTable(String table) {
        if (table == null || !TABLE_NAME.matcher(table).matches()) {
            throw new IllegalArgumentException("table must be [schema.]name in lower case letters, digits and _: " + table);
        }
        return table;
    }
}
