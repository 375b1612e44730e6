package dev.switchboard.contracts.names;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class TopicNamesProperties {

    private static final char[] ILLEGAL = " /#+:$@!?,;=\t\n\u00e9\u00df\u4e2dABZ".toCharArray();

    @Property
    void generatedTopicNamesAreValidNamesAndPatterns(@ForAll("topicNames") String name) {
        assertThat(TopicNames.isValidTopicName(name)).isTrue();
        assertThat(TopicNames.isValidPattern(name)).isTrue();
        assertThat(TopicNames.isWildcard(name)).isFalse();
    }

    @Property
    void generatedTenantIdsAreValid(@ForAll("tenantIds") String id) {
        assertThat(TopicNames.isValidTenantId(id)).isTrue();
    }

    @Property
    void mutatedNamesAreNeverValid(@ForAll("topicNames") String name, @ForAll("mutations") Mutation mutation,
                                   @ForAll Random random) {
        String mutant = mutation.apply(name, random);
        assertThat(TopicNames.isValidTopicName(mutant)).as("%s of %s: %s", mutation, name, mutant).isFalse();
        assertThat(TopicNames.isValidPattern(mutant)).as("%s of %s: %s", mutation, name, mutant).isFalse();
    }

    @Property
    void mutatedTenantIdsAreNeverValid(@ForAll("tenantIds") String id, @ForAll("mutations") Mutation mutation,
                                       @ForAll Random random) {
        String mutant = mutation == Mutation.OVER_LENGTH
                ? id + "a".repeat(TopicNames.MAX_TENANT_ID_LENGTH + 1 - id.length())
                : mutation.apply(id, random);
        assertThat(TopicNames.isValidTenantId(mutant)).as("%s of %s: %s", mutation, id, mutant).isFalse();
    }

    @Property
    void aDotIsNeverPartOfATenantId(@ForAll("tenantIds") String a, @ForAll("tenantIds") String b) {
        assertThat(TopicNames.isValidTenantId(a + "." + b)).isFalse();
    }

    @Property
    void wildcardsAreNeverPartOfATopicName(@ForAll("wildcardPatterns") String pattern) {
        assertThat(TopicNames.isValidPattern(pattern)).isTrue();
        assertThat(TopicNames.isWildcard(pattern)).isTrue();
        assertThat(TopicNames.isValidTopicName(pattern)).isFalse();
    }

    @Property
    void aTailWildcardAnywhereButLastIsInvalid(@ForAll("topicNames") String name, @ForAll Random random) {
        List<String> segments = new ArrayList<>(Arrays.asList(name.split("\\.")));
        segments.add(random.nextInt(segments.size()), ">");
        String pattern = String.join(".", segments);
        assertThat(TopicNames.isValidPattern(pattern)).as(pattern).isFalse();
    }

    @Property
    void wildcardsMixedIntoASegmentAreInvalid(@ForAll("topicNames") String name, @ForAll Random random) {
        String wildcard = random.nextBoolean() ? "*" : ">";
        int at = random.nextInt(name.length() + 1);
        // A valid name has no empty segment, so the wildcard always shares its segment.
        String pattern = name.substring(0, at) + wildcard + name.substring(at);
        assertThat(TopicNames.isValidPattern(pattern)).as(pattern).isFalse();
    }

    @Provide
    Arbitrary<String> topicNames() {
        return NameArbitraries.topicNames();
    }

    @Provide
    Arbitrary<String> tenantIds() {
        return NameArbitraries.segments(TopicNames.MAX_TENANT_ID_LENGTH);
    }

    @Provide
    Arbitrary<Mutation> mutations() {
        return Arbitraries.of(Mutation.class);
    }

    @Provide
    Arbitrary<String> wildcardPatterns() {
        Arbitrary<String> segment = Arbitraries.oneOf(NameArbitraries.segments(10), Arbitraries.just("*"));
        return Combinators.combine(segment.list().ofMinSize(0).ofMaxSize(5), Arbitraries.of(true, false))
                .as((segments, tail) -> tail || segments.isEmpty() ? withTail(segments) : String.join(".", segments))
                .filter(p -> p.contains("*") || p.endsWith(">"))
                .filter(p -> p.length() <= TopicNames.MAX_TOPIC_LENGTH);
    }

    private static String withTail(List<String> segments) {
        return segments.isEmpty() ? ">" : String.join(".", segments) + ".>";
    }

    enum Mutation {
        UPPERCASE {
            @Override
            String apply(String s, Random random) {
                return replaceAt(s, random.nextInt(s.length()), (char) ('A' + random.nextInt(26)));
            }
        },
        ILLEGAL_CHARACTER {
            @Override
            String apply(String s, Random random) {
                return replaceAt(s, random.nextInt(s.length()), ILLEGAL[random.nextInt(ILLEGAL.length)]);
            }
        },
        LEADING_DOT {
            @Override
            String apply(String s, Random random) {
                return "." + s;
            }
        },
        TRAILING_DOT {
            @Override
            String apply(String s, Random random) {
                return s + ".";
            }
        },
        DOUBLE_DOT {
            @Override
            String apply(String s, Random random) {
                int at = 1 + random.nextInt(s.length());
                return s.substring(0, at) + ".." + s.substring(at);
            }
        },
        EMPTY {
            @Override
            String apply(String s, Random random) {
                return "";
            }
        },
        SEGMENT_STARTS_WITH_PUNCTUATION {
            @Override
            String apply(String s, Random random) {
                List<String> segments = Arrays.asList(s.split("\\.", -1));
                int i = random.nextInt(segments.size());
                segments.set(i, (random.nextBoolean() ? "-" : "_") + segments.get(i));
                return String.join(".", segments);
            }
        },
        OVER_LENGTH {
            @Override
            String apply(String s, Random random) {
                StringBuilder longer = new StringBuilder(s);
                while (longer.length() <= TopicNames.MAX_TOPIC_LENGTH) {
                    longer.append(random.nextBoolean() ? ".x" : "y");
                }
                return longer.toString();
            }
        };

        abstract String apply(String s, Random random);

        private static String replaceAt(String s, int i, char c) {
            return s.substring(0, i) + c + s.substring(i + 1);
        }
    }
}
