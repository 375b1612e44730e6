package dev.switchboard.registry.topic;

import dev.switchboard.contracts.names.TopicNames;

/**
 * What is stored beside a declared name so PostgreSQL can find and rank the patterns matching a
 * topic in one bounded query: a POSIX regex equivalent to {@code TopicPattern.matches}, and the
 * keys of {@code TopicPattern.MOST_SPECIFIC_FIRST}.
 */
record TopicShape(boolean pattern, String regex, int literalSegments, boolean tail, int segmentCount) {

    /** A segment: the characters of TopicNames' segment rule, none of which is special in a regex. */
    private static final String ONE_SEGMENT = "[^.]+";

    /** @param name a valid topic name or pattern */
    static TopicShape of(String name) {
        String[] segments = name.split("\\.", -1);
        StringBuilder regex = new StringBuilder("^");
        int literals = 0;
        boolean tail = false;
        for (int i = 0; i < segments.length; i++) {
            if (i > 0) {
                regex.append("\\.");
            }
            String segment = segments[i];
            if (segment.equals("*")) {
                regex.append(ONE_SEGMENT);
            } else if (segment.equals(">")) {
                regex.append(ONE_SEGMENT).append("(\\.").append(ONE_SEGMENT).append(")*");
                tail = true;
            } else {
                regex.append(segment);
                literals++;
            }
        }
        regex.append('$');
        return new TopicShape(TopicNames.isWildcard(name), regex.toString(), literals, tail, segments.length);
    }
}
