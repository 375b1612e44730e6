package dev.switchboard.contracts.registry;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.cfg.DateTimeFeature;
import tools.jackson.databind.json.JsonMapper;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class RegistryJsonTests {

    private final JsonMapper json = JsonMapper.builder().build();

    @Test
    void topicSettingsDurationsAreIsoStrings() {
        TopicSettings settings = new TopicSettings(3, Duration.ofDays(7), Duration.ofHours(24), Duration.ofMinutes(90),
                1024, new TopicSettings.SchemaVersions(1, 3), 50, LagPolicy.SHED, 7,
                new TopicSettings.PublishRate(10, 20));
        JsonNode tree = json.readTree(json.writeValueAsString(settings));
        assertThat(tree.get("retention").asString()).isEqualTo("PT168H");
        assertThat(tree.get("dedupWindow").asString()).isEqualTo("PT24H");
        assertThat(tree.get("defaultTtl").asString()).isEqualTo("PT1H30M");
        assertThat(tree.get("lagPolicy").asString()).isEqualTo("shed");
        assertThat(tree.get("schemaVersions").get("max").asInt()).isEqualTo(3);
        assertThat(tree.get("publishRate").get("burst").asInt()).isEqualTo(20);
        assertThat(json.readValue(json.writeValueAsString(settings), TopicSettings.class)).isEqualTo(settings);
    }

    @Test
    void durationsStayStringsEvenWhenAMapperPrefersNumbers() {
        JsonMapper numeric = JsonMapper.builder()
                .enable(DateTimeFeature.WRITE_DURATIONS_AS_TIMESTAMPS, DateTimeFeature.WRITE_DATES_AS_TIMESTAMPS)
                .build();
        JsonNode tree = numeric.readTree(numeric.writeValueAsString(TopicSettings.defaults()));
        assertThat(tree.get("retention").isString()).isTrue();
        assertThat(tree.get("retention").asString()).isEqualTo("PT168H");
        RegistryChange change = new RegistryChange(1, RegistryChange.Kind.KEY, "acme", "k1",
                Instant.parse("2026-01-02T03:04:05.678Z"));
        assertThat(numeric.readTree(numeric.writeValueAsString(change)).get("at").asString())
                .isEqualTo("2026-01-02T03:04:05.678Z");
    }

    @Test
    void protocolExampleReadsWithDaysAndNulls() {
        String body = """
                {"partitions":1,"retention":"P7D","dedupWindow":"PT24H","defaultTtl":null,
                 "maxPayloadBytes":65536,"schemaVersions":{"min":1,"max":1},"maxLag":100000,
                 "lagPolicy":"throttle","maxAttempts":5,"publishRate":{"perSecond":1000,"burst":2000}}""";
        assertThat(json.readValue(body, TopicSettings.class)).isEqualTo(TopicSettings.defaults());
    }

    @Test
    void resolvedTopicRoundTrips() {
        ResolvedTopic topic = new ResolvedTopic("acme", "chat.room-1", "chat.*", TopicSettings.defaults());
        assertThat(json.readValue(json.writeValueAsString(topic), ResolvedTopic.class)).isEqualTo(topic);
    }

    @Test
    void keyPrincipalRoundTripsWithWireScopes() {
        KeyPrincipal principal = new KeyPrincipal("acme", "key-1", Set.of(Scope.PUBLISH, Scope.ADMIN));
        String written = json.writeValueAsString(principal);
        assertThat(json.readTree(written).get("scopes").valueStream().map(JsonNode::asString))
                .containsExactlyInAnyOrder("publish", "admin");
        assertThat(json.readValue(written, KeyPrincipal.class)).isEqualTo(principal);
    }

    @Test
    void registryChangeRoundTripsWithWireKind() {
        RegistryChange change = new RegistryChange(42, RegistryChange.Kind.CLIENT_SECRET, "acme", null,
                Instant.parse("2026-01-02T03:04:05.678Z"));
        String written = json.writeValueAsString(change);
        JsonNode tree = json.readTree(written);
        assertThat(tree.get("kind").asString()).isEqualTo("client_secret");
        assertThat(tree.get("at").asString()).isEqualTo("2026-01-02T03:04:05.678Z");
        assertThat(json.readValue(written, RegistryChange.class)).isEqualTo(change);
    }

    @Test
    void theRestRoundTrip() {
        ClientSecrets secrets = new ClientSecrets("acme", List.of("new", "old"));
        assertThat(json.readValue(json.writeValueAsString(secrets), ClientSecrets.class)).isEqualTo(secrets);
        assertThat(json.readValue(json.writeValueAsString(TenantQuotas.DEFAULT), TenantQuotas.class))
                .isEqualTo(TenantQuotas.DEFAULT);
        KeyResolveRequest request = new KeyResolveRequest("sb_secret");
        assertThat(json.writeValueAsString(request)).isEqualTo("{\"key\":\"sb_secret\"}");
        assertThat(json.readValue("{\"key\":\"sb_secret\"}", KeyResolveRequest.class)).isEqualTo(request);
    }
}
