package dev.switchboard.gateway.protocol;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.frames.ClientFrame;
import dev.switchboard.contracts.frames.ServerFrame;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.json.JsonMapper;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class FrameCodecTests {

    private final FrameCodec codec = new FrameCodec(JsonMapper.builder().build());

    @Test
    void decodesEveryClientOp() {
        assertThat(codec.decode("{\"op\":\"connect\",\"id\":1,\"token\":\"t\"}")).isEqualTo(new ClientFrame.Connect(1L, "t"));
        assertThat(codec.decode("{\"op\":\"subscribe\",\"id\":2,\"topic\":\"chat.a\",\"after\":1041}"))
                .isEqualTo(new ClientFrame.Subscribe(2L, "chat.a", "1041"));
        assertThat(codec.decode("{\"op\":\"subscribe\",\"topic\":\"chat.a\",\"after\":{\"0\":41,\"1\":7}}"))
                .isEqualTo(new ClientFrame.Subscribe(null, "chat.a", "0:41,1:7"));
        assertThat(codec.decode("{\"op\":\"subscribe\",\"id\":2,\"topic\":\"chat.a\"}")).isEqualTo(new ClientFrame.Subscribe(2L, "chat.a", null));
        assertThat(codec.decode("{\"op\":\"unsubscribe\",\"id\":3,\"topic\":\"chat.a\"}")).isEqualTo(new ClientFrame.Unsubscribe(3L, "chat.a"));
        assertThat(codec.decode("{\"op\":\"ping\",\"id\":5,\"extra\":true}")).isEqualTo(new ClientFrame.Ping(5L));
    }

    @Test
    void publishKeepsTheEventExactly() {
        ClientFrame.Publish publish = (ClientFrame.Publish) codec.decode(
                "{\"op\":\"publish\",\"id\":4,\"topic\":\"chat.a\",\"event\":{\"type\":\"x\",\"data\":{\"pi\":3.14159265358979323846264338}}}");
        assertThat(publish.event().json()).isEqualTo("{\"type\":\"x\",\"data\":{\"pi\":3.14159265358979323846264338}}");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{\"op\":\"teleport\",\"id\":7}|7",
            "{\"op\":\"subscribe\",\"id\":8}|8",
            "{\"op\":\"subscribe\",\"id\":9,\"topic\":\"a\",\"after\":-1}|9",
            "{\"op\":\"subscribe\",\"id\":9,\"topic\":\"a\",\"after\":\"x\"}|9",
            "{\"op\":\"subscribe\",\"id\":9,\"topic\":\"a\",\"after\":{\"p\":1}}|9",
            "{\"op\":\"publish\",\"id\":10,\"topic\":\"a\",\"event\":[1]}|10",
            "{\"op\":\"publish\",\"id\":10,\"topic\":\"a\"}|10",
            "{\"op\":\"connect\",\"id\":11,\"token\":{\"a\":1}}|11",
            "{\"id\":12}|12"})
    void badFramesAreInvalidRequestsWithTheirId(String frame, long id) {
        FrameException e = catchThrowableOfType(FrameException.class, () -> codec.decode(frame));
        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(e.id()).isEqualTo(id);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "nope", "[1,2]", "{\"op\":", "\"text\"", "{\"op\":\"ping\",\"id\":1.5}", "{\"op\":\"ping\",\"id\":\"1\"}"})
    void unreadableFramesAreInvalidRequestsWithoutId(String frame) {
        FrameException e = catchThrowableOfType(FrameException.class, () -> codec.decode(frame));
        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(e.id()).isNull();
    }

    @Test
    void encodesServerFrames() {
        assertThat(codec.encode(new ServerFrame.Connected(1L, "s", 25))).isEqualTo("{\"op\":\"connected\",\"id\":1,\"session\":\"s\",\"pingInterval\":25}");
        assertThat(codec.encode(new ServerFrame.Subscribed(2L, "chat.a", Map.of(0, 1050L))))
                .isEqualTo("{\"op\":\"subscribed\",\"id\":2,\"topic\":\"chat.a\",\"head\":1050}");
        assertThat(codec.encode(new ServerFrame.Subscribed(2L, "chat.a", Map.of(0, 5L, 1, 7L))))
                .isEqualTo("{\"op\":\"subscribed\",\"id\":2,\"topic\":\"chat.a\",\"head\":{\"0\":5,\"1\":7}}");
        assertThat(codec.encode(new ServerFrame.Error(null, ErrorCode.FORBIDDEN, "no \"way\"", null)))
                .isEqualTo("{\"op\":\"error\",\"code\":\"forbidden\",\"message\":\"no \\\"way\\\"\"}");
        assertThat(codec.encode(new ServerFrame.Reconnect(ServerFrame.Reason.LAGGING, 0, Map.of("b", Map.of(0, 3L), "a", Map.of(0, 1L, 2, 9L)))))
                .isEqualTo("{\"op\":\"reconnect\",\"reason\":\"lagging\",\"delayMs\":0,\"resume\":{\"a\":{\"0\":1,\"2\":9},\"b\":3}}");
        assertThat(codec.encode(new ServerFrame.Event("chat.a", "{\"seq\":1}"))).isEqualTo("{\"op\":\"event\",\"topic\":\"chat.a\",\"event\":{\"seq\":1}}");
        assertThat(codec.encode(new ServerFrame.SlowDown("chat.a", 1000))).isEqualTo("{\"op\":\"slow_down\",\"topic\":\"chat.a\",\"retryAfterMs\":1000}");
        assertThat(codec.encode(new ServerFrame.Published(4L, "chat.a", "e1", 9, 0, false)))
                .isEqualTo("{\"op\":\"published\",\"id\":4,\"topic\":\"chat.a\",\"eventId\":\"e1\",\"seq\":9,\"partition\":0,\"duplicate\":false}");
        assertThat(codec.encode(new ServerFrame.Pong(null))).isEqualTo("{\"op\":\"pong\"}");
    }
}
