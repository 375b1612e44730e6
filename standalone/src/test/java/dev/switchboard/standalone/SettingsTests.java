package dev.switchboard.standalone;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class SettingsTests {

    static final Path WORK = Path.of("/home/me/switchboard");
    static final ServiceDescriptor REGISTRY = Services.ALL.get(0);

    @Test
    void defaultsToAnEmbeddedDatabaseInTheWorkingDirectoryOnLoopback() {
        Settings settings = Settings.from(Map.of(), WORK);

        assertThat(settings.dataFolder()).isEqualTo(WORK.resolve(".switchboard"));
        assertThat(settings.databaseUrl()).isEmpty();
        assertThat(settings.embeddedDbPort()).isEqualTo(54329);
        assertThat(settings.bindAddress()).isEqualTo("127.0.0.1");
        assertThat(settings.port(REGISTRY)).isEqualTo(8081);
        assertThat(settings.adminToken()).isEmpty();
        assertThat(settings.serviceToken()).isEmpty();
        assertThat(settings.secretKey()).isEmpty();
    }

    @Test
    void readsEveryVariable() {
        Settings settings = Settings.from(Map.of(
                "SWITCHBOARD_DATA_DIR", "/var/lib/switchboard",
                "SWITCHBOARD_DATABASE_URL", "postgresql://sb:pw@db.internal:6543/switchboard",
                "SWITCHBOARD_EMBEDDED_DB_PORT", "55000",
                "SWITCHBOARD_BIND_ADDRESS", "0.0.0.0",
                "REGISTRY_PORT", "9081",
                "SWITCHBOARD_ADMIN_TOKEN", " admin ",
                "SWITCHBOARD_SERVICE_TOKEN", "service",
                "SWITCHBOARD_SECRET_KEY", "key"), WORK);

        assertThat(settings.dataFolder()).isEqualTo(Path.of("/var/lib/switchboard"));
        assertThat(settings.databaseUrl()).hasValueSatisfying(uri -> {
            assertThat(uri.host()).isEqualTo("db.internal");
            assertThat(uri.port()).isEqualTo(6543);
            assertThat(uri.password()).isEqualTo("pw");
        });
        assertThat(settings.embeddedDbPort()).isEqualTo(55000);
        assertThat(settings.port(REGISTRY)).isEqualTo(9081);
        assertThat(settings.adminToken()).contains("admin");
        assertThat(settings.serviceToken()).contains("service");
        assertThat(settings.secretKey()).contains("key");
        // Bound to every interface; reached locally over loopback.
        assertThat(settings.localHost()).isEqualTo("127.0.0.1");
    }

    @Test
    void resolvesARelativeDataFolderAgainstTheWorkingDirectory() {
        assertThat(Settings.from(Map.of("SWITCHBOARD_DATA_DIR", "data/../state"), WORK).dataFolder())
                .isEqualTo(WORK.resolve("state"));
    }

    @Test
    void blankVariablesCountAsUnset() {
        Settings settings = Settings.from(Map.of("SWITCHBOARD_DATABASE_URL", " ", "SWITCHBOARD_ADMIN_TOKEN", "", "REGISTRY_PORT", ""), WORK);

        assertThat(settings.databaseUrl()).isEmpty();
        assertThat(settings.adminToken()).isEmpty();
        assertThat(settings.port(REGISTRY)).isEqualTo(8081);
    }

    @Test
    void developmentModeOnlyWhenSwitchboardDevIsTrue() {
        assertThat(Settings.from(Map.of(), WORK).dev()).isFalse();
        assertThat(Settings.from(Map.of("SWITCHBOARD_DEV", "false"), WORK).dev()).isFalse();
        assertThat(Settings.from(Map.of("SWITCHBOARD_DEV", "yes"), WORK).dev()).isFalse();
        assertThat(Settings.from(Map.of("SWITCHBOARD_DEV", "true"), WORK).dev()).isTrue();
        assertThat(Settings.from(Map.of("SWITCHBOARD_DEV", "TRUE"), WORK).dev()).isTrue();
    }

    @Test
    void namesTheVariableThatIsWrong() {
        assertThatIllegalArgumentException().isThrownBy(() -> Settings.from(Map.of("REGISTRY_PORT", "http"), WORK).port(REGISTRY))
                .withMessageContaining("REGISTRY_PORT");
        assertThatIllegalArgumentException().isThrownBy(() -> Settings.from(Map.of("SWITCHBOARD_EMBEDDED_DB_PORT", "70000"), WORK))
                .withMessageContaining("SWITCHBOARD_EMBEDDED_DB_PORT");
        assertThatIllegalArgumentException().isThrownBy(() -> Settings.from(Map.of("SWITCHBOARD_DATABASE_URL", "mysql://x/y"), WORK))
                .withMessageStartingWith("SWITCHBOARD_DATABASE_URL");
    }

    @Test
    void neverPrintsSecrets() {
        Settings settings = Settings.from(Map.of("SWITCHBOARD_DATABASE_URL", "postgresql://sb:hunter2@db/sb",
                "SWITCHBOARD_ADMIN_TOKEN", "admin-secret", "SWITCHBOARD_SECRET_KEY", "key-secret"), WORK);

        assertThat(settings.toString()).doesNotContain("hunter2", "admin-secret", "key-secret").contains("db");
    }
}
