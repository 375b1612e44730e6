package dev.switchboard.registry.change;

import dev.switchboard.contracts.registry.RegistryChange;
import dev.switchboard.registry.config.RegistryProperties;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The change feed behind {@code GET /internal/v1/changes?after={id}}: every committed change with
 * an id above {@code after}, in id order, then live changes as they commit, with heartbeats.
 *
 * <h2>Lines</h2>
 * <ol>
 * <li>If the caller cannot resume (see reset below): one <b>reset line</b>.</li>
 * <li>The replay: every retained change with {@code id > after}, read in pages of {@value #PAGE}.</li>
 * <li>A {@code heartbeat} line whose id is the last id sent (or {@code after}): the caller is now
 * live. Then live changes, and a heartbeat every {@code heartbeat-interval} carrying the newest id
 * the caller has been sent, so an idle caller can store a fresh resume point.</li>
 * </ol>
 * Without {@code after}, the feed starts at the newest change: the first line is a heartbeat with
 * that id, and only later changes follow.
 *
 * <h2>The reset line</h2>
 * {@code {"id":N,"kind":"tenant","tenant":"*","ref":"reset","at":…}} — tenant {@code "*"} is never
 * a tenant id, so it cannot be mistaken for a real change. It means: <i>changes you have not seen
 * are gone; drop everything you cached from the registry (all tenants) and continue from id N</i>,
 * which is what the stream then does. It is sent when {@code after} is below the highest id ever
 * pruned (older than {@code change-retention}), or above any id this database has issued (the
 * caller's position comes from another database, e.g. after a restore).
 *
 * <h2>Ordering and wake-ups</h2>
 * Ids are issued in commit order ({@link ChangeLog}), so reading {@code id > cursor} never skips a
 * row. Every wake-up (a NOTIFY, a reconnect of the LISTEN connection, a heartbeat tick) makes the
 * subscriber read from its cursor; wake-ups that arrive while it is busy collapse into one
 * ({@code onBackpressureLatest}), so nothing is buffered per subscriber beyond one page of rows.
 */
@Component
public class ChangeFeed {

    /** Rows read per query. */
    static final int PAGE = 500;
    /** The tenant of a reset line: never a valid tenant id. */
    public static final String RESET_TENANT = "*";
    /** The ref of a reset line. */
    public static final String RESET_REF = "reset";

    private enum Wake { POLL, TICK }

    private final ChangeRepository changes;
    private final ChangeNotifications notifications;
    private final Duration heartbeat;

    ChangeFeed(ChangeRepository changes, ChangeNotifications notifications, RegistryProperties properties) {
        this.changes = changes;
        this.notifications = notifications;
        this.heartbeat = properties.heartbeatInterval();
    }

    /** The feed from {@code after} ({@code null}: from now). */
    public Flux<RegistryChange> changes(Long after) {
        return changes.position().flatMapMany(position -> {
            boolean reset = after != null && (after < position.prunedThrough() || after > position.issuedThrough());
            long start = after == null || reset ? position.latest() : after;
            Flux<RegistryChange> first = reset
                    ? Flux.just(new RegistryChange(start, RegistryChange.Kind.TENANT, RESET_TENANT, RESET_REF, Instant.now()))
                    : Flux.empty();
            return first.concatWith(follow(start));
        }).takeUntilOther(notifications.stopped());
    }

    private Flux<RegistryChange> follow(long start) {
        AtomicLong cursor = new AtomicLong(start);
        AtomicLong lastHeartbeat = new AtomicLong(Long.MIN_VALUE);
        long minGapNanos = heartbeat.toNanos() / 2;
        // Subscribed first, so no NOTIFY can slip between the initial read and the subscription.
        Flux<Wake> wakes = Flux.merge(
                        notifications.wakeups().map(id -> Wake.POLL),
                        Flux.interval(heartbeat, heartbeat).map(tick -> Wake.TICK),
                        Mono.just(Wake.TICK))
                .onBackpressureLatest();
        return wakes.concatMap(wake -> drain(cursor).concatWith(Mono.defer(() -> {
            long now = System.nanoTime();
            // A tick overtaken by a poll still yields its heartbeat; a poll right after one does not.
            if (lastHeartbeat.get() != Long.MIN_VALUE && now - lastHeartbeat.get() < minGapNanos) {
                return Mono.empty();
            }
            if (wake == Wake.POLL && lastHeartbeat.get() != Long.MIN_VALUE && now - lastHeartbeat.get() < heartbeat.toNanos()) {
                return Mono.empty();
            }
            lastHeartbeat.set(now);
            return Mono.just(new RegistryChange(cursor.get(), RegistryChange.Kind.HEARTBEAT, null, null, Instant.now()));
        })), 1);
    }

    /** Everything above the cursor, a page at a time, advancing the cursor. */
    private Flux<RegistryChange> drain(AtomicLong cursor) {
        return Flux.defer(() -> changes.after(cursor.get(), PAGE).collectList()
                .flatMapMany(page -> {
                    if (page.isEmpty()) {
                        return Flux.empty();
                    }
                    cursor.set(page.get(page.size() - 1).id());
                    Flux<RegistryChange> rows = Flux.fromIterable(page);
                    return page.size() < PAGE ? rows : rows.concatWith(drain(cursor));
                }));
    }
}
