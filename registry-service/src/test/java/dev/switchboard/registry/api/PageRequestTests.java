package dev.switchboard.registry.api;

import dev.switchboard.platform.problem.SwitchboardException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PageRequestTests {

    @Test
    void defaultsToTheFirstPageOfFiftyCappedByTheMaximum() {
        assertThat(PageRequest.parse(null, null, 100, k -> true)).isEqualTo(new PageRequest(50, ""));
        assertThat(PageRequest.parse(null, null, 20, k -> true)).isEqualTo(new PageRequest(20, ""));
    }

    @Test
    void aPageCarriesTheCursorOfItsLastItemOnlyWhenMoreFollow() {
        PageRequest request = PageRequest.parse("2", null, 100, k -> true);
        Page<String> page = request.page(List.of("a", "b", "c"), s -> s, String::toUpperCase);
        assertThat(page.items()).containsExactly("A", "B");
        assertThat(PageRequest.parse("2", page.nextCursor(), 100, k -> true).after()).isEqualTo("b");
        assertThat(request.page(List.of("a", "b"), s -> s, s -> s).nextCursor()).isNull();
    }

    @Test
    void refusesCursorsItDidNotIssue() {
        assertThatThrownBy(() -> PageRequest.parse(null, "!!", 100, k -> true)).isInstanceOf(SwitchboardException.class);
        assertThatThrownBy(() -> PageRequest.parse(null, PageRequest.encode("Bad Key"), 100, k -> k.matches("[a-z]+")))
                .isInstanceOf(SwitchboardException.class);
        assertThatThrownBy(() -> PageRequest.parse("101", null, 100, k -> true)).isInstanceOf(SwitchboardException.class);
    }
}
