package dev.switchboard.contracts.names;

import java.util.regex.Pattern;

/**
 * The name rules of {@code PROTOCOL.md}: tenant ids, topic names and topic patterns.
 * Every service validates with these and nothing else.
 */
public final class TopicNames {
    /** Longest tenant id. */
    public static final int MAX_TENANT_ID_LENGTH = 64;
    /** Longest topic name or pattern, all segments and dots included. */
    public static final int MAX_TOPIC_LENGTH = 128;

    private static final Pattern SEGMENT = Pattern.compile("[a-z0-9][a-z0-9_-]*");

    private TopicNames() {
    }

    public static boolean isValidTenantId(String id) {
        return id != null && !id.isEmpty() && id.length() <= MAX_TENANT_ID_LENGTH && SEGMENT.matcher(id).matches();
    }

    /** A concrete topic name: literal segments only. */
    public static boolean isValidTopicName(String name) {
        return isValid(name, false);
    }

    /** A pattern: a concrete name, or one with {@code *} segments and/or a last {@code >} segment. */
    public static boolean isValidPattern(String pattern) {
        return isValid(pattern, true);
    }

    /** A pattern that has at least one wildcard segment. */
    public static boolean isWildcard(String pattern) {
        if (!isValidPattern(pattern)) {
            return false;
        }
        for (String segment : pattern.split("\\.", -1)) {
            if (segment.equals("*") || segment.equals(">")) {
                return true;
            }
        }
        return false;
    }

    private static boolean isValid(String value, boolean wildcards) {
        if (value == null || value.isEmpty() || value.length() > MAX_TOPIC_LENGTH) {
            return false;
        }
        String[] segments = value.split("\\.", -1);
        for (int i = 0; i < segments.length; i++) {
            String segment = segments[i];
            if (wildcards && segment.equals("*")) {
                continue;
            }
            if (wildcards && segment.equals(">") && i == segments.length - 1) {
                continue;
            }
            if (!SEGMENT.matcher(segment).matches()) {
                return false;
            }
        }
        return true;
    }
}
