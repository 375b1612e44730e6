package dev.switchboard.platform.database;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class PostgresUriTests {

    @Test
    void parsesEveryPart() {
        PostgresUri uri = PostgresUri.parse("postgresql://sb:p%40ss@db.local:6543/switchboard");
        assertThat(uri.host()).isEqualTo("db.local");
        assertThat(uri.port()).isEqualTo(6543);
        assertThat(uri.database()).isEqualTo("switchboard");
        assertThat(uri.user()).isEqualTo("sb");
        assertThat(uri.password()).isEqualTo("p@ss");
        assertThat(uri.jdbcUrl()).isEqualTo("jdbc:postgresql://db.local:6543/switchboard");
        assertThat(uri.r2dbcUrl()).isEqualTo("r2dbc:postgresql://db.local:6543/switchboard");
    }

    @Test
    void defaultsPortAndCredentials() {
        PostgresUri uri = PostgresUri.parse("postgres://localhost/app");
        assertThat(uri.port()).isEqualTo(5432);
        assertThat(uri.user()).isEmpty();
        assertThat(uri.password()).isEmpty();
    }

    @Test
    void roundTripsAndHidesThePasswordInToString() {
        PostgresUri uri = PostgresUri.parse("postgresql://u:secret@h:1/d");
        assertThat(PostgresUri.parse(uri.toUriString())).isEqualTo(uri);
        assertThat(uri.toString()).doesNotContain("secret");
        assertThat(uri.withDatabase("other").database()).isEqualTo("other");
    }

    @Test
    void rejectsWhatIsNotAPostgresUri() {
        assertThatIllegalArgumentException().isThrownBy(() -> PostgresUri.parse("mysql://h/d"));
        assertThatIllegalArgumentException().isThrownBy(() -> PostgresUri.parse("postgresql://h"));
        assertThatIllegalArgumentException().isThrownBy(() -> PostgresUri.parse(""));
        assertThatIllegalArgumentException().isThrownBy(() -> PostgresUri.parse("jdbc:postgresql://h/d"));
    }
}
