package dev.switchboard.registry.topic;

import dev.switchboard.contracts.names.TopicNames;
import dev.switchboard.contracts.names.TopicPattern;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The SQL side of topic resolution must agree with {@link TopicPattern}: the stored regex matches
 * exactly the names the pattern matches, and the stored ranking keys order candidates exactly as
 * {@link TopicPattern#MOST_SPECIFIC_FIRST}. Checked exhaustively over small alphabets.
 */
class TopicShapeTests {

    private static final List<String> NAME_SEGMENTS = List.of("a", "b", "a-1");
    private static final List<String> PATTERN_SEGMENTS = List.of("a", "b", "a-1", "*", ">");

    @Test
    void regexMatchesExactlyWhatThePatternMatches() {
        List<String> names = combinations(NAME_SEGMENTS, 4);
        List<String> patterns = combinations(PATTERN_SEGMENTS, 4).stream().filter(TopicNames::isValidPattern).toList();
        assertThat(patterns).contains("a.*", "a.>", ">", "*.b.>", "a-1.b");
        for (String pattern : patterns) {
            Pattern regex = Pattern.compile(TopicShape.of(pattern).regex());
            TopicPattern matcher = TopicPattern.of(pattern);
            for (String name : names) {
                assertThat(regex.matcher(name).matches()).as(pattern + " ~ " + name).isEqualTo(matcher.matches(name));
            }
        }
    }

    @Test
    void sqlRankingAgreesWithMostSpecificFirst() {
        List<String> patterns = new ArrayList<>(combinations(PATTERN_SEGMENTS, 3).stream()
                .filter(TopicNames::isValidPattern).toList());
        // ORDER BY is_pattern, literal_segments DESC, has_tail, segment_count DESC, name (C collation)
        Comparator<String> sql = Comparator.comparing((String p) -> TopicShape.of(p).pattern())
                .thenComparing(p -> -TopicShape.of(p).literalSegments())
                .thenComparing(p -> TopicShape.of(p).tail())
                .thenComparing(p -> -TopicShape.of(p).segmentCount())
                .thenComparing(Comparator.naturalOrder());
        List<String> bySql = patterns.stream().sorted(sql).toList();
        List<String> byContract = patterns.stream().map(TopicPattern::of).sorted(TopicPattern.MOST_SPECIFIC_FIRST)
                .map(TopicPattern::text).toList();
        assertThat(bySql).isEqualTo(byContract);
    }

    @Test
    void shapesOfTypicalDeclarations() {
        assertThat(TopicShape.of("chat.room-1")).isEqualTo(new TopicShape(false, "^chat\\.room-1$", 2, false, 2));
        assertThat(TopicShape.of("chat.*")).isEqualTo(new TopicShape(true, "^chat\\.[^.]+$", 1, false, 2));
        assertThat(TopicShape.of("ai.>")).isEqualTo(new TopicShape(true, "^ai\\.[^.]+(\\.[^.]+)*$", 1, true, 2));
        assertThat(TopicShape.of(">")).isEqualTo(new TopicShape(true, "^[^.]+(\\.[^.]+)*$", 0, true, 1));
    }

    private static List<String> combinations(List<String> segments, int maxSegments) {
        List<String> all = new ArrayList<>();
        List<String> current = new ArrayList<>(segments);
        all.addAll(current);
        for (int n = 2; n <= maxSegments; n++) {
            List<String> next = new ArrayList<>();
            for (String prefix : current) {
                for (String segment : segments) {
                    next.add(prefix + "." + segment);
                }
            }
            all.addAll(next);
            current = next;
        }
        return all;
    }
}
