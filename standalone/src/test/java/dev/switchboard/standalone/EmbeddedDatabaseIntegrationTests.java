package dev.switchboard.standalone;

import dev.switchboard.platform.database.PostgresUri;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The embedded PostgreSQL of the default run, started as the launcher starts it. */
class EmbeddedDatabaseIntegrationTests {

    @Test
    void makesEveryAcknowledgedCommitDurable(@TempDir Path dir) throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        try (EmbeddedDatabase db = EmbeddedDatabase.start(dir.resolve("pgdata"), port, dir.resolve("postgres.log"))) {
            assertThat(durabilitySettings(db.uri())).isEqualTo(EXPECTED);
        }
    }

    static final Map<String, String> EXPECTED = Map.of("fsync", "on", "synchronous_commit", "on", "full_page_writes", "on");

    /** What the running server says of the settings that decide whether a commit survives a crash. */
    static Map<String, String> durabilitySettings(PostgresUri server) throws SQLException {
        Map<String, String> settings = new LinkedHashMap<>();
        try (Connection c = Databases.connect(server); Statement s = c.createStatement()) {
            for (String name : EXPECTED.keySet()) {
                try (ResultSet rs = s.executeQuery("SHOW " + name)) {
                    rs.next();
                    settings.put(name, rs.getString(1));
                }
            }
        }
        return settings;
    }
}
