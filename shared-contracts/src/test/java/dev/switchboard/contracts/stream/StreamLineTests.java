package dev.switchboard.contracts.stream;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class StreamLineTests {

    @Test
    void everyKindRoundTrips() {
        StreamLine[] lines = {
                new StreamLine.Position(Map.of(0, 41L, 1, 7L)),
                new StreamLine.Position(Map.of()),
                new StreamLine.EventLine(3, 42, "{\"id\":\"a,b\",\"data\":{\"seq\":1,\"x\":\"}\"}}"),
                new StreamLine.Gap(0, 1, 40),
                StreamLine.Heartbeat.INSTANCE};
        for (StreamLine line : lines) {
            assertThat(StreamLine.parse(line.format())).isEqualTo(line);
        }
        assertThat(new StreamLine.Position(Map.of(1, 7L, 0, 41L)).format()).isEqualTo("{\"position\":{\"0\":41,\"1\":7}}");
    }

    @Test
    void rejectsForeignLines() {
        assertThatIllegalArgumentException().isThrownBy(() -> StreamLine.parse("{\"x\":1}"));
        assertThatIllegalArgumentException().isThrownBy(() -> StreamLine.parse("{\"partition\":x,\"seq\":1,\"event\":{}}"));
        assertThatIllegalArgumentException().isThrownBy(() -> StreamLine.parse(""));
    }

    @Test
    void resumePointsParseBothFormsAndFormatCompactly() {
        assertThat(ResumePoints.parse("41", 2)).containsExactlyInAnyOrderEntriesOf(Map.of(0, 41L, 1, 41L));
        assertThat(ResumePoints.parse("1:7", 3)).containsExactlyInAnyOrderEntriesOf(Map.of(0, 0L, 1, 7L, 2, 0L));
        assertThat(ResumePoints.format(Map.of(0, 12L))).isEqualTo("12");
        assertThat(ResumePoints.format(Map.of(1, 7L, 0, 41L))).isEqualTo("0:41,1:7");
        assertThatIllegalArgumentException().isThrownBy(() -> ResumePoints.parse("-1", 1));
        assertThatIllegalArgumentException().isThrownBy(() -> ResumePoints.parse("2:5", 2)).withMessageContaining("does not exist");
        assertThatIllegalArgumentException().isThrownBy(() -> ResumePoints.parse("abc", 1));
        assertThatIllegalArgumentException().isThrownBy(() -> ResumePoints.parse("0:1:2", 1));
    }
}
