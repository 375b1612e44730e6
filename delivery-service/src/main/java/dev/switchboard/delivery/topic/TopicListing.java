package dev.switchboard.delivery.topic;

import dev.switchboard.contracts.names.TopicNames;
import dev.switchboard.contracts.names.TopicPattern;
import dev.switchboard.delivery.group.GroupNames;
import dev.switchboard.platform.problem.SwitchboardException;
import io.r2dbc.spi.Readable;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;

/**
 * The topics of a tenant that have events and match a pattern, by name, a page at a time: what a
 * pattern trigger ({@code chat.*}) needs to find the topics it consumes. With a consumer group, only
 * the topics where that group has something to lease are listed: it never polled the topic, events
 * after its cursor, or pending events due again. One index range scan of the tenant's partition rows
 * from the pattern's literal prefix, each joined to the group's cursor by key; dead-letter topics
 * ({@code x.dlq}) are left out unless the pattern names them.
 */
@Component
public class TopicListing {

    public static final int MAX_LIMIT = 1000;

    /** A listed topic: when its first partition got its first event, and its events so far (every partition). */
    public record Listed(String topic, Instant createdAt, long head) {
    }

    private final DatabaseClient db;

    TopicListing(DatabaseClient db) {
        this.db = db;
    }

    /**
     * @param group  with a group name, only the topics where it has work; null for every match
     * @param after  names after this one (the last of the previous page), or null from the start
     * @throws SwitchboardException (400) for an invalid tenant, pattern, group, name or limit
     */
    public Mono<List<Listed>> list(String tenant, String pattern, String group, String after, int limit) {
        if (!TopicNames.isValidTenantId(tenant)) {
            return Mono.error(SwitchboardException.invalid("Invalid tenant id."));
        }
        if (pattern == null || !TopicNames.isValidPattern(pattern)) {
            return Mono.error(SwitchboardException.invalid("pattern must be a topic name or pattern (chat.*, ai.>)."));
        }
        if (group != null && !GroupNames.isValidGroup(group)) {
            return Mono.error(SwitchboardException.invalid("Invalid group name: " + GroupNames.GROUP_PATTERN + "."));
        }
        if (after != null && !after.isEmpty() && !TopicNames.isValidTopicName(after)) {
            return Mono.error(SwitchboardException.invalid("after must be a topic name."));
        }
        if (limit < 1 || limit > MAX_LIMIT) {
            return Mono.error(SwitchboardException.invalid("limit must be between 1 and " + MAX_LIMIT + "."));
        }
        TopicPattern parsed = TopicPattern.of(pattern);
        String prefix = parsed.literalPrefix();
        boolean deadLetters = pattern.endsWith(TopicLookup.DLQ_SUFFIX);
        StringBuilder sql = new StringBuilder("""
                SELECT p.topic, min(p.created_at) AS created_at, sum(p.head)::bigint AS head FROM partitions p
                """);
        if (group != null) {
            sql.append("""
                    LEFT JOIN group_partitions g ON g.tenant_id = p.tenant_id AND g.topic = p.topic
                        AND g.group_name = :group AND g.partition = p.partition
                    """);
        }
        sql.append("WHERE p.tenant_id = :tenant AND p.topic > :after AND p.topic ~ :regex");
        if (!prefix.isEmpty()) {
            // Byte order ("C" collation): the names that start with the prefix lie in [prefix, prefix with its last byte + 1).
            sql.append(" AND p.topic >= :from AND p.topic < :to");
        }
        if (!deadLetters) {
            sql.append(" AND right(p.topic, 4) <> '").append(TopicLookup.DLQ_SUFFIX).append('\'');
        }
        sql.append(" GROUP BY p.topic");
        if (group != null) {
            sql.append("""
                    
                    HAVING bool_or(g.next_seq IS NULL OR p.head >= g.next_seq)
                        OR EXISTS (SELECT 1 FROM group_pending d WHERE d.tenant_id = :tenant AND d.topic = p.topic
                                   AND d.group_name = :group AND d.visible_at <= now())""");
        }
        sql.append(" ORDER BY p.topic LIMIT :n");
        DatabaseClient.GenericExecuteSpec select = db.sql(sql.toString())
                .bind("tenant", tenant).bind("after", after == null ? "" : after).bind("regex", parsed.regex()).bind("n", limit);
        if (group != null) {
            select = select.bind("group", group);
        }
        if (!prefix.isEmpty()) {
            char last = prefix.charAt(prefix.length() - 1);
            select = select.bind("from", prefix).bind("to", prefix.substring(0, prefix.length() - 1) + (char) (last + 1));
        }
        return select.map((Readable r) -> new Listed(r.get("topic", String.class),
                        r.get("created_at", OffsetDateTime.class).toInstant(), r.get("head", Long.class)))
                .all()
                .collectList();
    }
}
