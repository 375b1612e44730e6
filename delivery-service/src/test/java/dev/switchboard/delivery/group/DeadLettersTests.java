package dev.switchboard.delivery.group;

import dev.switchboard.contracts.envelope.Event;
import dev.switchboard.contracts.envelope.EventRules;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

class DeadLettersTests {

    private final DeadLetters letters = new DeadLetters(null, JsonMapper.builder().build(), null);

    @Test
    void aDeadLetterIsTheOriginalEventWithWhereItCameFromAndWhyAsAProducerMaySendIt() {
        String stored = "{\"specversion\":\"1.0\",\"id\":\"pay-1\",\"source\":\"/billing\",\"type\":\"payment\",\"time\":\"2026-12-02T10:00:00Z\","
                + "\"datacontenttype\":\"application/json\",\"tenant\":\"acme\",\"topic\":\"payments\",\"seq\":4294967296,\"partition\":2,"
                + "\"partitionkey\":\"u1\",\"causationid\":\"c-1\",\"ttl\":60,\"expiresat\":\"2026-12-02T10:01:00Z\",\"region\":\"eu\","
                + "\"traceparent\":\"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\",\"data\":{\"amount\":5}}";
        Event letter = letters.letter("payments", "billing", 2, 4_294_967_296L, 5, "x".repeat(600), stored);

        assertThat(EventRules.producerViolations(letter)).isEmpty();
        assertThat(letter.id()).isEqualTo("dlq.billing.2.4294967296");
        assertThat(letter.type()).isEqualTo("payment");
        assertThat(letter.source()).isEqualTo("/billing");
        assertThat(letter.partitionKey()).isEqualTo("u1");
        assertThat(letter.causationId()).isEqualTo("c-1");
        assertThat(letter.traceparent()).isEqualTo("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        assertThat(letter.data().utf8()).isEqualTo("{\"amount\":5}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertThat(letter.ttl()).isNull();
        assertThat(letter.time()).isNull();
        assertThat(letter.extensions())
                .containsEntry("region", "eu")
                .containsEntry("deadlettertopic", "payments")
                .containsEntry("deadletterpartition", 2)
                .containsEntry("deadletterseq", "4294967296")
                .containsEntry("deadletterid", "pay-1")
                .containsEntry("deadlettergroup", "billing")
                .containsEntry("deadletterattempts", 5);
        assertThat((String) letter.extensions().get("deadletterreason")).hasSize(512);
    }
}
