package dev.switchboard.standalone;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

class EmbeddedDatabaseTests {

    @TempDir
    Path dir;

    @Test
    void refusesAPortSomethingElseAnswersOn() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            assertThatIllegalStateException()
                    .isThrownBy(() -> EmbeddedDatabase.start(dir.resolve("pgdata"), taken.getLocalPort(), dir.resolve("postgres.log")))
                    .withMessageContaining("already taken")
                    .withMessageContaining("SWITCHBOARD_EMBEDDED_DB_PORT");
        }
        assertThat(dir.resolve("pgdata")).doesNotExist();
    }

    @Test
    void leavesAProcessAloneThatIsNotPostgres() throws Exception {
        Path pgdata = Files.createDirectories(dir.resolve("pgdata"));
        // This test's own JVM, named in a postmaster.pid: a reused pid must never be killed.
        Files.writeString(pgdata.resolve("postmaster.pid"), ProcessHandle.current().pid() + "\n" + pgdata + "\n");

        EmbeddedDatabase.stopOrphan(pgdata);

        assertThat(ProcessHandle.current().isAlive()).isTrue();
        assertThat(pgdata.resolve("postmaster.pid")).exists();
    }

    @Test
    void ignoresAStalePidFile() throws Exception {
        Path pgdata = Files.createDirectories(dir.resolve("pgdata"));
        Files.writeString(pgdata.resolve("postmaster.pid"), "not-a-pid\n");

        EmbeddedDatabase.stopOrphan(pgdata);

        assertThat(pgdata.resolve("postmaster.pid")).exists();
    }
}
