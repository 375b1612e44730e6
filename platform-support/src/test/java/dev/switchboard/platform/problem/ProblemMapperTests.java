package dev.switchboard.platform.problem;

import org.junit.jupiter.api.Test;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.web.server.MethodNotAllowedException;
import org.springframework.web.server.ResponseStatusException;

import java.net.URI;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ProblemMapperTests {

    @Test
    void aMethodNotAllowedIs405WithAllow() {
        ProblemMapper.Mapped mapped = ProblemMapper.map(new MethodNotAllowedException(HttpMethod.DELETE,
                List.of(HttpMethod.POST, HttpMethod.GET)));
        assertThat(mapped.problem().getStatus()).isEqualTo(405);
        assertThat(mapped.problem().getType()).isEqualTo(URI.create("urn:switchboard:problem:method_not_allowed"));
        assertThat(mapped.problem().getProperties()).containsEntry("code", "method_not_allowed");
        assertThat(mapped.problem().getDetail()).isEqualTo("Method DELETE is not allowed on this path; allowed: GET, POST.");
        assertThat(mapped.headers().getFirst(HttpHeaders.ALLOW)).isEqualTo("GET, POST");
    }

    @Test
    void aBare405StatusIsMethodNotAllowedToo() {
        ProblemMapper.Mapped mapped = ProblemMapper.map(new ResponseStatusException(HttpStatus.METHOD_NOT_ALLOWED));
        assertThat(mapped.problem().getStatus()).isEqualTo(405);
        assertThat(mapped.problem().getProperties()).containsEntry("code", "method_not_allowed");
    }
}
