package dev.switchboard.contracts.names;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class TopicNamesTests {

    @ParameterizedTest
    @ValueSource(strings = {"a", "0", "chat", "chat.room-42", "a_b", "a-", "a.b.c.d", "9.8", "x__.y--"})
    void validTopicNames(String name) {
        assertThat(TopicNames.isValidTopicName(name)).isTrue();
        assertThat(TopicNames.isValidPattern(name)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "chat..x", ".chat", "chat.", "Chat", "chat.Room", "-a", "_a", "a.-b", "a b", "a/b",
            "caf\u00e9", "*", ">", "a.*", "a.>", "a*", "a.b.", "..", "."})
    void invalidTopicNames(String name) {
        assertThat(TopicNames.isValidTopicName(name)).isFalse();
    }

    @Test
    void nullIsNeverValid() {
        assertThat(TopicNames.isValidTopicName(null)).isFalse();
        assertThat(TopicNames.isValidPattern(null)).isFalse();
        assertThat(TopicNames.isValidTenantId(null)).isFalse();
        assertThat(TopicNames.isWildcard(null)).isFalse();
    }

    @Test
    void topicLengthLimitCountsDots() {
        String max = "a".repeat(63) + "." + "b".repeat(64);
        assertThat(max).hasSize(TopicNames.MAX_TOPIC_LENGTH);
        assertThat(TopicNames.isValidTopicName(max)).isTrue();
        assertThat(TopicNames.isValidTopicName(max + "c")).isFalse();
        assertThat(TopicNames.isValidPattern("a".repeat(126) + ".>")).isTrue();
        assertThat(TopicNames.isValidPattern("a".repeat(127) + ".>")).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"*", ">", "a.*", "*.b", "a.>", "a.*.>", "*.>", "*.*", "a.*.c"})
    void validWildcardPatterns(String pattern) {
        assertThat(TopicNames.isValidPattern(pattern)).isTrue();
        assertThat(TopicNames.isWildcard(pattern)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"a.>.b", ">.a", "a*", "a.>>", "a.**", "", ".>", "a.", "**", "*a", "a.*b", "A.*", "a..*",
            "> ", "a.>.>"})
    void invalidPatterns(String pattern) {
        assertThat(TopicNames.isValidPattern(pattern)).isFalse();
        assertThat(TopicNames.isWildcard(pattern)).isFalse();
    }

    @Test
    void tenantIds() {
        assertThat(TopicNames.isValidTenantId("acme")).isTrue();
        assertThat(TopicNames.isValidTenantId("acme-2_b")).isTrue();
        assertThat(TopicNames.isValidTenantId("a".repeat(64))).isTrue();
        assertThat(TopicNames.isValidTenantId("a".repeat(65))).isFalse();
        for (String invalid : List.of("", "Acme", "a.b", "-a", "_a", "a b", "*", ">")) {
            assertThat(TopicNames.isValidTenantId(invalid)).as(invalid).isFalse();
        }
    }

    @ParameterizedTest
    @CsvSource({
            "a.>, a, false", "a.>, a.b, true", "a.>, a.b.c, true", "a.>, b.a, false",
            "*, a, true", "*, a.b, false",
            ">, a, true", ">, a.b.c, true",
            "a.*, a.b, true", "a.*, a.b.c, false", "a.*, a, false",
            "a.*.c, a.b.c, true", "a.*.c, a.b.d, false",
            "*.>, a, false", "*.>, a.b, true",
            "a.*.>, a.b, false", "a.*.>, a.b.c, true",
            "chat.room-42, chat.room-42, true", "chat.room-42, chat.room-4, false",
            "a.*, a.B, false", "a.>, a..b, false", ">, '', false"})
    void matching(String pattern, String topic, boolean matches) {
        assertThat(TopicPattern.of(pattern).matches(topic)).isEqualTo(matches);
    }

    @Test
    void nullTopicNeverMatches() {
        assertThat(TopicPattern.of(">").matches(null)).isFalse();
    }

    @Test
    void invalidPatternsAreRefused() {
        assertThatIllegalArgumentException().isThrownBy(() -> TopicPattern.of("a.>.b"));
        assertThatIllegalArgumentException().isThrownBy(() -> TopicPattern.of("Chat"));
        assertThatIllegalArgumentException().isThrownBy(() -> TopicPattern.of(null));
    }

    @Test
    void mostSpecificMatch() {
        List<TopicPattern> candidates = List.of(TopicPattern.of(">"), TopicPattern.of("chat.>"),
                TopicPattern.of("chat.*"), TopicPattern.of("chat.room-1"), TopicPattern.of("*.room-1"));
        assertThat(TopicPattern.mostSpecificMatch(candidates, "chat.room-1")).contains(TopicPattern.of("chat.room-1"));
        assertThat(TopicPattern.mostSpecificMatch(candidates, "chat.room-2")).contains(TopicPattern.of("chat.*"));
        assertThat(TopicPattern.mostSpecificMatch(candidates, "chat.a.b")).contains(TopicPattern.of("chat.>"));
        assertThat(TopicPattern.mostSpecificMatch(candidates, "news")).contains(TopicPattern.of(">"));
        assertThat(TopicPattern.mostSpecificMatch(List.of(TopicPattern.of("chat.*")), "news")).isEmpty();
    }

    @Test
    void moreLiteralSegmentsWinThenNoTailThenLongerThenText() {
        List<TopicPattern> candidates = List.of(TopicPattern.of("a.>"), TopicPattern.of("*.*.c"),
                TopicPattern.of("a.*.c"), TopicPattern.of("a.b.>"), TopicPattern.of("*.b.c"));
        // a.*.c, a.b.> and *.b.c have two literal segments; a.b.> has the tail; *.b.c < a.*.c by text.
        assertThat(candidates.stream().sorted(TopicPattern.MOST_SPECIFIC_FIRST).map(TopicPattern::text))
                .containsExactly("*.b.c", "a.*.c", "a.b.>", "*.*.c", "a.>");
    }
}
