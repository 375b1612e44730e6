package dev.switchboard.delivery.log;

import io.r2dbc.spi.Readable;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;

/** Bounded reads of one topic partition by seq cursor. */
@Component
public class EventReader {

    private final DatabaseClient db;

    EventReader(DatabaseClient db) {
        this.db = db;
    }

    /** Where a partition stands: last assigned seq, and the oldest seq retention still keeps. */
    public record Position(long head, long firstSeq) {
        public static final Position EMPTY = new Position(0, 1);
    }

    /**
     * A page read after {@code after}: the items (events not expired, and a leading gap if
     * {@code after} is older than retention) and {@code cursor}, the last seq looked at, which is
     * where the next page starts even when every row of this one had expired.
     */
    public record Page(List<LogItem> items, long cursor, int rowsRead) {
    }

    public Mono<Position> position(String tenant, String topic, int partition) {
        return db.sql("SELECT head, first_seq FROM partitions WHERE tenant_id = :tenant AND topic = :topic AND partition = :partition")
                .bind("tenant", tenant)
                .bind("topic", topic)
                .bind("partition", partition)
                .map((Readable row) -> new Position(row.get("head", Long.class), row.get("first_seq", Long.class)))
                .one()
                .defaultIfEmpty(Position.EMPTY);
    }

    /** Heads of every partition of a topic that has any events. */
    public Flux<PartitionHead> heads(String tenant, String topic) {
        return db.sql("SELECT partition, head FROM partitions WHERE tenant_id = :tenant AND topic = :topic ORDER BY partition LIMIT 1024")
                .bind("tenant", tenant)
                .bind("topic", topic)
                .map((Readable row) -> new PartitionHead(row.get("partition", Integer.class), row.get("head", Long.class)))
                .all();
    }

    public record PartitionHead(int partition, long head) {
    }

    /** Up to {@code limit} rows with seq > {@code after}, in seq order; expired events are skipped. */
    public Mono<Page> page(String tenant, String topic, int partition, long after, int limit) {
        return db.sql("""
                        SELECT seq, expires_at, envelope FROM events
                        WHERE tenant_id = :tenant AND topic = :topic AND partition = :partition AND seq > :after
                        ORDER BY seq LIMIT :limit""")
                .bind("tenant", tenant)
                .bind("topic", topic)
                .bind("partition", partition)
                .bind("after", after)
                .bind("limit", limit)
                .map((Readable row) -> new Row(row.get("seq", Long.class), row.get("expires_at", OffsetDateTime.class),
                        row.get("envelope", String.class)))
                .all()
                .collectList()
                .flatMap(rows -> {
                    boolean contiguous = rows.isEmpty() ? true : rows.get(0).seq() == after + 1;
                    if (contiguous && !rows.isEmpty()) {
                        return Mono.just(toPage(partition, after, rows, null));
                    }
                    // A jump (or nothing at all) may mean retention removed what follows `after`.
                    return position(tenant, topic, partition).map(pos -> {
                        Gap gap = after + 1 < pos.firstSeq() ? new Gap(after + 1, pos.firstSeq() - 1) : null;
                        return toPage(partition, after, rows, gap);
                    });
                });
    }

    private record Row(long seq, OffsetDateTime expiresAt, String envelope) {
    }

    private record Gap(long from, long to) {
    }

    private static Page toPage(int partition, long after, List<Row> rows, Gap gap) {
        Instant now = Instant.now();
        List<LogItem> items = new ArrayList<>(rows.size() + 1);
        long cursor = after;
        if (gap != null) {
            items.add(new LogItem.Gap(partition, gap.from(), gap.to()));
            cursor = gap.to();
        }
        for (Row row : rows) {
            cursor = Math.max(cursor, row.seq());
            if (row.expiresAt() == null || row.expiresAt().toInstant().isAfter(now)) {
                items.add(new LogItem.Event(partition, row.seq(), row.envelope()));
            }
        }
        return new Page(items, cursor, rows.size());
    }
}
