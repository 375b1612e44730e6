package dev.switchboard.testsupport;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HistoryTests {

    @Test
    void aCleanRunIsOk() {
        History history = new History();
        for (int i = 1; i <= 3; i++) {
            history.attempt("e" + i);
            history.acknowledge("e" + i, i);
            history.see("a", "e" + i, i);
            history.see("b", "e" + i, i);
        }
        History.Report report = history.check();
        assertThat(report.ok()).isTrue();
        assertThat(report.acknowledged()).isEqualTo(3);
        assertThat(report.subscribers().get("a")).isEqualTo(new History.Verdict(3, 0, 0, 0, 0, 0));
        assertThat(report.summary()).startsWith("3 publishes attempted, 3 acknowledged; over 2 subscribers: 0 lost, 0 duplicated");
    }

    @Test
    void everyKindOfFaultIsCountedForTheSubscriberThatSawIt() {
        History history = new History();
        for (int i = 1; i <= 4; i++) {
            history.attempt("e" + i);
        }
        history.acknowledge("e1", 1);
        history.acknowledge("e2", 2);
        history.acknowledge("e3", 3);
        // e4's answer was lost to the fault, but it was committed as seq 4.
        history.see("a", "e1", 1);
        history.see("a", "e3", 3);
        history.see("a", "e2", 2);   // reordered
        history.see("a", "e3", 3);   // duplicated
        history.see("a", "e4", 4);   // recovered
        history.see("a", "x9", 5);   // unexpected
        history.see("b", "e1", 1);   // b lost e2 and e3
        history.subscriber("c");     // c saw nothing: lost all three
        History.Report report = history.check();
        assertThat(report.subscribers().get("a")).isEqualTo(new History.Verdict(6, 0, 1, 1, 1, 1));
        assertThat(report.subscribers().get("b")).isEqualTo(new History.Verdict(1, 2, 0, 0, 0, 0));
        assertThat(report.subscribers().get("c")).isEqualTo(new History.Verdict(0, 3, 0, 0, 0, 0));
        assertThat(report.ok()).isFalse();
        assertThat(report.faulty()).containsOnlyKeys("a", "b", "c");
        assertThat(report.attempted()).isEqualTo(4);
    }

    @Test
    void aRetriedPublishAcknowledgedWithAnotherSeqIsAFaultOfItsOwn() {
        History history = new History();
        history.acknowledge("e1", 1);
        history.acknowledge("e1", 1);
        assertThatThrownBy(() -> history.acknowledge("e1", 2)).isInstanceOf(IllegalStateException.class);
    }
}
