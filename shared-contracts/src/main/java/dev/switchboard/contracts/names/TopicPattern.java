package dev.switchboard.contracts.names;

import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.Objects;
import java.util.Optional;

/**
 * A validated topic pattern ({@code chat.*}, {@code ai.>}, or a concrete name) and the one
 * matcher every service uses. {@code *} matches exactly one segment; a last {@code >} matches one
 * or more segments.
 */
public final class TopicPattern {

    /**
     * Most specific first: an exact name beats any pattern; then more literal segments; then a
     * pattern without {@code >} beats one with it; then more segments; then the text, so the
     * order is total and every service picks the same winner.
     */
    public static final Comparator<TopicPattern> MOST_SPECIFIC_FIRST = Comparator
            .comparing((TopicPattern p) -> p.wildcard)
            .thenComparing(p -> -p.literalSegments())
            .thenComparing(p -> p.tail)
            .thenComparing(p -> -p.segments.length)
            .thenComparing(p -> p.text);

    private final String text;
    private final String[] segments;
    private final boolean wildcard;
    private final boolean tail;

    private TopicPattern(String text) {
        this.text = text;
        this.segments = text.split("\\.", -1);
        this.tail = segments[segments.length - 1].equals(">");
        this.wildcard = tail || Arrays.asList(segments).contains("*");
    }

    /** @throws IllegalArgumentException when {@code text} is not a valid pattern */
    public static TopicPattern of(String text) {
        if (!TopicNames.isValidPattern(text)) {
            throw new IllegalArgumentException("invalid topic pattern: " + text);
        }
        return new TopicPattern(text);
    }

    public String text() {
        return text;
    }

    /** True when the pattern has a {@code *} or {@code >} segment. */
    public boolean isWildcard() {
        return wildcard;
    }

    /** Whether a concrete topic name matches; invalid names never match. */
    public boolean matches(String topic) {
        if (!TopicNames.isValidTopicName(topic)) {
            return false;
        }
        String[] parts = topic.split("\\.", -1);
        if (tail) {
            if (parts.length < segments.length) {
                return false;
            }
        } else if (parts.length != segments.length) {
            return false;
        }
        int fixed = tail ? segments.length - 1 : segments.length;
        for (int i = 0; i < fixed; i++) {
            if (!segments[i].equals("*") && !segments[i].equals(parts[i])) {
                return false;
            }
        }
        return true;
    }

    /**
     * A regular expression, anchored at both ends, that a valid topic name matches exactly when
     * {@link #matches} says so. It is written in the syntax Java and PostgreSQL's {@code ~} share, so
     * a store can select the matching names itself.
     */
    public String regex() {
        String segment = "[a-z0-9][a-z0-9_-]*";
        StringBuilder regex = new StringBuilder("^");
        for (int i = 0; i < segments.length; i++) {
            if (i > 0) {
                regex.append("\\.");
            }
            // Literal segments hold only [a-z0-9_-]: nothing in them is special outside brackets.
            regex.append(switch (segments[i]) {
                case "*" -> segment;
                case ">" -> segment + "(\\." + segment + ")*";
                default -> segments[i];
            });
        }
        return regex.append('$').toString();
    }

    /**
     * What every matching name starts with: the literal segments before the first wildcard, each
     * with the dot after it ({@code chat.} for {@code chat.*}, empty for {@code *.question}), or the
     * whole name of a concrete one. A store ranges over names from this prefix instead of all of them.
     */
    public String literalPrefix() {
        if (!wildcard) {
            return text;
        }
        StringBuilder prefix = new StringBuilder();
        for (String segment : segments) {
            if (segment.equals("*") || segment.equals(">")) {
                break;
            }
            prefix.append(segment).append('.');
        }
        return prefix.toString();
    }

    /** The most specific of {@code candidates} that matches {@code topic}, if any. */
    public static Optional<TopicPattern> mostSpecificMatch(Collection<TopicPattern> candidates, String topic) {
        return candidates.stream().filter(p -> p.matches(topic)).min(MOST_SPECIFIC_FIRST);
    }

    private int literalSegments() {
        int n = 0;
        for (String segment : segments) {
            if (!segment.equals("*") && !segment.equals(">")) {
                n++;
            }
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TopicPattern other && other.text.equals(text);
    }

    @Override
    public int hashCode() {
        return Objects.hash(text);
    }

    @Override
    public String toString() {
        return text;
    }
}
