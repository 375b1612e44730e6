package dev.switchboard.platform.logging;

import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.mock.env.MockEnvironment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LogFormatEnvironmentPostProcessorTests {

    private final LogFormatEnvironmentPostProcessor processor = new LogFormatEnvironmentPostProcessor();

    private MockEnvironment processed(MockEnvironment environment) {
        processor.postProcessEnvironment(environment, new SpringApplication());
        return environment;
    }

    @Test
    void jsonTurnsOnBootsEcsConsoleFormatWithoutABanner() {
        MockEnvironment env = processed(new MockEnvironment().withProperty("switchboard.log-format", " JSON "));
        assertThat(env.getProperty("logging.structured.format.console")).isEqualTo("ecs");
        assertThat(env.getProperty("spring.main.banner-mode")).isEqualTo("off");
    }

    @Test
    void textAndNothingLeavePlainLines() {
        assertThat(processed(new MockEnvironment().withProperty("switchboard.log-format", "text"))
                .getProperty("logging.structured.format.console")).isNull();
        assertThat(processed(new MockEnvironment()).getProperty("logging.structured.format.console")).isNull();
    }

    @Test
    void anExplicitStructuredFormatWins() {
        MockEnvironment env = processed(new MockEnvironment().withProperty("switchboard.log-format", "json")
                .withProperty("logging.structured.format.console", "logstash"));
        assertThat(env.getProperty("logging.structured.format.console")).isEqualTo("logstash");
    }

    @Test
    void anythingElseIsRefusedNamingTheVariable() {
        assertThatThrownBy(() -> processed(new MockEnvironment().withProperty("switchboard.log-format", "xml")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("SWITCHBOARD_LOG_FORMAT").hasMessageContaining("'xml'");
    }
}
