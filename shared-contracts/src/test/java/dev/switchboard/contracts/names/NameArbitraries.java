package dev.switchboard.contracts.names;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

import java.util.List;

/** Generators of valid names, shared by the name and pattern properties. */
final class NameArbitraries {
    static final String FIRST = "abcdefghijklmnopqrstuvwxyz0123456789";
    static final String REST = FIRST + "_-";

    private NameArbitraries() {
    }

    static Arbitrary<String> segments(int maxLength) {
        Arbitrary<Character> first = Arbitraries.chars().with(FIRST.toCharArray());
        Arbitrary<String> rest = Arbitraries.strings().withChars(REST.toCharArray()).ofMaxLength(maxLength - 1);
        return Combinators.combine(first, rest).as((f, r) -> f + r);
    }

    /** Valid topic names, short and up to the 128-character limit. */
    static Arbitrary<String> topicNames() {
        return Arbitraries.oneOf(
                segments(12).list().ofMinSize(1).ofMaxSize(6).map(NameArbitraries::join),
                segments(40).list().ofMinSize(1).ofMaxSize(5).map(NameArbitraries::join))
                .filter(name -> name.length() <= TopicNames.MAX_TOPIC_LENGTH);
    }

    /** Names over a three-letter alphabet, so that random patterns and names often match. */
    static Arbitrary<String> smallNames() {
        return smallSegments().list().ofMinSize(1).ofMaxSize(5).map(NameArbitraries::join);
    }

    static Arbitrary<String> smallSegments() {
        return Arbitraries.of("a", "b", "c");
    }

    /** Patterns over the same alphabet: literal and {@code *} segments, maybe a last {@code >}. */
    static Arbitrary<String> smallPatterns() {
        Arbitrary<String> segment = Arbitraries.of("a", "b", "c", "*");
        Arbitrary<List<String>> body = segment.list().ofMinSize(0).ofMaxSize(5);
        return Combinators.combine(body, Arbitraries.of(true, false)).as((segments, tail) -> {
            if (segments.isEmpty()) {
                return ">";
            }
            return tail ? join(segments) + ".>" : join(segments);
        });
    }

    static String join(List<String> segments) {
        return String.join(".", segments);
    }
}
