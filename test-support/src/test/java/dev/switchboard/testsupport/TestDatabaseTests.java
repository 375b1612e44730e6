package dev.switchboard.testsupport;

import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;

class TestDatabaseTests {

    @Test
    void givesARealEmptyPostgresDatabase() throws Exception {
        TestDatabase db = TestDatabase.get();
        try (Connection c = db.openConnection(); Statement s = c.createStatement()) {
            ResultSet version = s.executeQuery("SHOW server_version_num");
            assertThat(version.next()).isTrue();
            assertThat(version.getInt(1)).isGreaterThanOrEqualTo(140000);
            ResultSet tables = s.executeQuery(
                    "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog','information_schema')");
            tables.next();
            assertThat(tables.getInt(1)).isZero();
            ResultSet name = s.executeQuery("SELECT current_database()");
            name.next();
            assertThat(name.getString(1)).startsWith("sbtest_").isEqualTo(db.uri().database());
        }
    }

    @Test
    void createsFurtherIndependentDatabases() throws Exception {
        var other = TestDatabase.get().createDatabase("extra");
        assertThat(other.database()).startsWith("extra_").isNotEqualTo(TestDatabase.get().uri().database());
    }
}
