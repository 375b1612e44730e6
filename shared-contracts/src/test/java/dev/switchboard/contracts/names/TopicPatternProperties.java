package dev.switchboard.contracts.names;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

class TopicPatternProperties {

    private static final String SEGMENT = "[a-z0-9][a-z0-9_-]*";
    private static final Pattern VALID_NAME = Pattern.compile(SEGMENT + "(\\." + SEGMENT + ")*");

    @Property
    void aConcreteNameMatchesExactlyItself(@ForAll("topicNames") String name, @ForAll("nearNames") String other) {
        TopicPattern pattern = TopicPattern.of(name);
        assertThat(pattern.isWildcard()).isFalse();
        assertThat(pattern.matches(name)).isTrue();
        assertThat(pattern.matches(other)).isEqualTo(other.equals(name));
    }

    @Property
    void aConcreteNameRejectsItsNeighbours(@ForAll("topicNames") String name, @ForAll("segments") String segment) {
        TopicPattern pattern = TopicPattern.of(name);
        assertThat(pattern.matches(name + "." + segment)).isFalse();
        assertThat(pattern.matches(segment + "." + name)).isFalse();
        int lastDot = name.lastIndexOf('.');
        if (lastDot > 0) {
            assertThat(pattern.matches(name.substring(0, lastDot))).isFalse();
        }
    }

    @Property
    void aStarMatchesAnyOneSegmentAndNothingElse(@ForAll("topicNames") String name, @ForAll("segments") String other,
                                                 @ForAll Random random) {
        String[] segments = name.split("\\.");
        int at = random.nextInt(segments.length);
        TopicPattern pattern = TopicPattern.of(replace(segments, at, "*"));
        assertThat(pattern.isWildcard()).isTrue();

        assertThat(pattern.matches(name)).isTrue();
        assertValidThenAssert(replace(segments, at, other), true, pattern);
        // One segment more or less never matches.
        assertValidThenAssert(name + "." + other, false, pattern);
        if (segments.length > 1) {
            assertValidThenAssert(join(Arrays.copyOf(segments, segments.length - 1)), false, pattern);
        }
        // A different literal segment elsewhere never matches.
        if (segments.length > 1) {
            int elsewhere = (at + 1 + random.nextInt(segments.length - 1)) % segments.length;
            String changed = segments[elsewhere].equals(other) ? other + "x" : other;
            assertValidThenAssert(replace(segments, elsewhere, changed), false, pattern);
        }
    }

    @Property
    void aTailMatchesEveryLongerNameWithItsPrefix(@ForAll("prefixedNames") String name) {
        TopicPattern tail = TopicPattern.of("a.>");
        assertThat(tail.matches(name)).isEqualTo(name.startsWith("a."));
        assertThat(tail.matches("a")).isFalse();
    }

    @Property
    void theMatcherAgreesWithARegexTranslation(@ForAll("smallPatterns") String pattern,
                                               @ForAll("smallOrInvalidNames") String name) {
        assertThat(TopicPattern.of(pattern).matches(name)).as("%s ~ %s", pattern, name)
                .isEqualTo(oracle(pattern, name));
    }

    @Property
    void derivedPatternsAlwaysMatchTheirName(@ForAll("topicNames") String name, @ForAll Random random) {
        String pattern = derive(name, random);
        assertThat(TopicNames.isValidPattern(pattern)).as(pattern).isTrue();
        assertThat(TopicPattern.of(pattern).matches(name)).as("%s ~ %s", pattern, name).isTrue();
    }

    @Property
    void anExactNameBeatsEveryMatchingPattern(@ForAll("topicNames") String name, @ForAll Random random) {
        List<TopicPattern> candidates = candidates(name, random);
        candidates.add(TopicPattern.of(name));
        Collections.shuffle(candidates, random);
        assertThat(TopicPattern.mostSpecificMatch(candidates, name)).contains(TopicPattern.of(name));
    }

    @Property
    void theWinnerDoesNotDependOnCandidateOrder(@ForAll("smallNames") String name, @ForAll Random random) {
        List<TopicPattern> candidates = candidates(name, random);
        for (int i = 0; i < 3; i++) {
            candidates.add(TopicPattern.of(randomSmallPattern(random)));
        }
        Optional<TopicPattern> winner = TopicPattern.mostSpecificMatch(candidates, name);
        assertThat(winner).isPresent();
        assertThat(winner.get().matches(name)).isTrue();
        for (int i = 0; i < 5; i++) {
            Collections.shuffle(candidates, random);
            assertThat(TopicPattern.mostSpecificMatch(candidates, name)).isEqualTo(winner);
        }
        for (TopicPattern candidate : candidates) {
            if (candidate.matches(name)) {
                assertThat(TopicPattern.MOST_SPECIFIC_FIRST.compare(winner.get(), candidate)).isLessThanOrEqualTo(0);
            }
        }
    }

    @Property
    void theOrderIsTotalAndConsistentWithEquals(@ForAll("smallPatterns") String a, @ForAll("smallPatterns") String b) {
        TopicPattern p = TopicPattern.of(a);
        TopicPattern q = TopicPattern.of(b);
        int pq = TopicPattern.MOST_SPECIFIC_FIRST.compare(p, q);
        int qp = TopicPattern.MOST_SPECIFIC_FIRST.compare(q, p);
        assertThat(Integer.signum(pq)).isEqualTo(-Integer.signum(qp));
        assertThat(pq == 0).isEqualTo(p.equals(q));
    }

    @Property
    void theRegexAndThePrefixSelectWhatTheMatcherMatches(@ForAll("smallPatterns") String text, @ForAll("smallNames") String name) {
        TopicPattern pattern = TopicPattern.of(text);
        assertThat(Pattern.compile(pattern.regex()).matcher(name).find()).as("%s ~ %s", name, pattern.regex())
                .isEqualTo(pattern.matches(name));
        if (pattern.matches(name)) {
            assertThat(name).startsWith(pattern.literalPrefix());
        }
    }

    @Property
    void theRegexSelectsEveryNameAPatternMadeFromItMatches(@ForAll("topicNames") String name, @ForAll Random random) {
        String[] segments = name.split("\\.");
        int at = random.nextInt(segments.length);
        TopicPattern star = TopicPattern.of(replace(segments, at, "*"));
        assertThat(Pattern.compile(star.regex()).matcher(name).find()).isTrue();
        assertThat(name).startsWith(star.literalPrefix());
        TopicPattern tail = TopicPattern.of(String.join(".", Arrays.copyOf(segments, at)) + (at == 0 ? ">" : ".>"));
        assertThat(Pattern.compile(tail.regex()).matcher(name).find()).isTrue();
        assertThat(TopicPattern.of(name).literalPrefix()).isEqualTo(name);
    }

    @Provide
    Arbitrary<String> topicNames() {
        return NameArbitraries.topicNames();
    }

    @Provide
    Arbitrary<String> segments() {
        return NameArbitraries.segments(8);
    }

    @Provide
    Arbitrary<String> smallNames() {
        return NameArbitraries.smallNames();
    }

    @Provide
    Arbitrary<String> smallPatterns() {
        return NameArbitraries.smallPatterns();
    }

    @Provide
    Arbitrary<String> nearNames() {
        return Arbitraries.oneOf(NameArbitraries.topicNames(), NameArbitraries.smallNames());
    }

    @Provide
    Arbitrary<String> prefixedNames() {
        return Arbitraries.oneOf(
                NameArbitraries.smallNames(),
                NameArbitraries.topicNames().map(n -> "a." + n).filter(n -> n.length() <= TopicNames.MAX_TOPIC_LENGTH),
                NameArbitraries.topicNames());
    }

    /** Mostly small valid names, sometimes broken ones: those never match anything. */
    @Provide
    Arbitrary<String> smallOrInvalidNames() {
        Arbitrary<String> broken = Arbitraries.strings().withChars("abc.*>A_- ".toCharArray()).ofMaxLength(8);
        return Arbitraries.frequencyOf(
                Tuple.of(8, NameArbitraries.smallNames()),
                Tuple.of(2, broken));
    }

    /** Independent of the class under test: validity by regex, then the pattern as a regex. */
    private static boolean oracle(String pattern, String name) {
        if (name.length() > TopicNames.MAX_TOPIC_LENGTH || !VALID_NAME.matcher(name).matches()) {
            return false;
        }
        List<String> parts = new ArrayList<>();
        for (String segment : pattern.split("\\.")) {
            parts.add(switch (segment) {
                case "*" -> SEGMENT;
                case ">" -> SEGMENT + "(\\." + SEGMENT + ")*";
                default -> Pattern.quote(segment);
            });
        }
        return Pattern.compile(String.join("\\.", parts)).matcher(name).matches();
    }

    /** A pattern that matches {@code name} by construction: some segments starred, maybe a tail. */
    private static String derive(String name, Random random) {
        String[] segments = name.split("\\.");
        List<String> out = new ArrayList<>();
        int keep = random.nextBoolean() ? segments.length : random.nextInt(segments.length);
        for (int i = 0; i < keep; i++) {
            out.add(random.nextInt(3) == 0 ? "*" : segments[i]);
        }
        if (keep < segments.length) {
            out.add(">");
        }
        return String.join(".", out);
    }

    private static List<TopicPattern> candidates(String name, Random random) {
        List<TopicPattern> candidates = new ArrayList<>();
        int n = 1 + random.nextInt(6);
        for (int i = 0; i < n; i++) {
            String derived = derive(name, random);
            if (!derived.equals(name)) {
                candidates.add(TopicPattern.of(derived));
            }
        }
        candidates.add(TopicPattern.of(">"));
        return candidates;
    }

    private static void assertValidThenAssert(String name, boolean expected, TopicPattern pattern) {
        if (name.length() <= TopicNames.MAX_TOPIC_LENGTH) {
            assertThat(TopicNames.isValidTopicName(name)).as(name).isTrue();
            assertThat(pattern.matches(name)).as("%s ~ %s", pattern, name).isEqualTo(expected);
        }
    }

    private static String replace(String[] segments, int at, String segment) {
        String[] copy = segments.clone();
        copy[at] = segment;
        return join(copy);
    }

    private static String join(String[] segments) {
        return String.join(".", segments);
    }

    /** A random small pattern, for properties that need several per try. */
    private static String randomSmallPattern(Random random) {
        String[] choices = {"a", "b", "c", "*"};
        int n = random.nextInt(5);
        List<String> segments = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            segments.add(choices[random.nextInt(choices.length)]);
        }
        if (segments.isEmpty() || random.nextBoolean()) {
            segments.add(">");
        }
        return String.join(".", segments);
    }
}
