package dev.switchboard.workflow.run;

import dev.switchboard.workflow.model.EchoProvider;
import dev.switchboard.workflow.pipeline.Templates;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The pure parts of a run: templates filled in, echo's tokens, JSON found in prose, trigger group names. */
class RunPartsTests {

    static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void aTemplateReadsTheTriggerAndEarlierSteps() {
        JsonNode trigger = JSON.readTree("{\"id\":\"e1\",\"topic\":\"chat.room-1\",\"data\":{\"text\":\"hi\",\"n\":[1,2],\"o\":{\"k\":true}}}");
        Map<String, JsonNode> outputs = Map.of("a", JSON.readTree("\"first\""), "j", JSON.readTree("{\"total\":12}"));
        assertThat(Templates.render("{{data.text}} / {{ trigger.topic }} / {{steps.a.output}} / {{steps.j.output.total}}",
                trigger, outputs)).isEqualTo("hi / chat.room-1 / first / 12");
        assertThat(Templates.render("{{data.n}} {{data.n.1}} {{data.o}} [{{data.missing}}] [{{steps.none.output}}]", trigger, outputs))
                .isEqualTo("[1,2] 2 {\"k\":true} [] []");
        assertThat(Templates.outputTopic("answers.{trigger.topic}", trigger)).isEqualTo("answers.chat.room-1");
        assertThatThrownBy(() -> Templates.outputTopic("answers.{trigger.subject}", trigger))
                .hasMessageContaining("not a topic name");
    }

    @Test
    void echoAnswersThePromptAWordAToken() {
        assertThat(EchoProvider.tokens("Why is the  sky blue?", Map.of())).containsExactly("Why ", "is ", "the  ", "sky ", "blue?");
        assertThat(EchoProvider.tokens("one two three", Map.of("maxTokens", 2))).containsExactly("one ", "two ");
        assertThat(EchoProvider.tokens("one two. three", Map.of("stop", List.of(". ")))).containsExactly("one ", "two");
        assertThat(EchoProvider.tokens("", Map.of())).isEmpty();
    }

    @Test
    void theFirstJsonOfAModelsProseIsFound() {
        assertThat(StepExecutor.firstJson("Sure! ```json\n{\"a\": [1, {\"b\": 2}]}\n``` Anything else?").toString())
                .isEqualTo("{\"a\":[1,{\"b\":2}]}");
        assertThat(StepExecutor.firstJson("{not json} but [1,2] is").toString()).isEqualTo("[1,2]");
        assertThatThrownBy(() -> StepExecutor.firstJson("no json here {")).hasMessageContaining("no JSON object or array");
    }

    @Test
    void triggerGroupsFitTheGroupNameLimit() {
        assertThat(TriggerConsumer.group("asked")).isEqualTo("wf-asked");
        String longName = "p".repeat(64);
        String group = TriggerConsumer.group(longName);
        assertThat(group).hasSize(64).startsWith("wf-ppp").matches("[a-z0-9][a-z0-9_-]{0,63}");
        assertThat(TriggerConsumer.group("p".repeat(63) + "q")).isNotEqualTo(group);
    }
}
