package dev.switchboard.standalone;

import dev.switchboard.standalone.DataFolder.Secret;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DataFolderTests {

    @TempDir
    Path dir;

    @Test
    void generatesASecretOnceAndReadsItBackLater() throws Exception {
        AtomicInteger generated = new AtomicInteger();
        DataFolder folder = new DataFolder(dir.resolve("state"));
        folder.create();

        Secret first = folder.secret(Optional.empty(), "admin-token", () -> "token-" + generated.incrementAndGet());
        Secret second = new DataFolder(dir.resolve("state")).secret(Optional.empty(), "admin-token", () -> "token-" + generated.incrementAndGet());

        assertThat(first.origin()).isEqualTo(Secret.Origin.GENERATED);
        assertThat(second.origin()).isEqualTo(Secret.Origin.STORED);
        assertThat(second.value()).isEqualTo(first.value()).isEqualTo("token-1");
        assertThat(generated).hasValue(1);
        assertThat(Files.readString(dir.resolve("state/admin-token")).trim()).isEqualTo("token-1");
        assertThat(Files.list(dir.resolve("state"))).extracting(p -> p.getFileName().toString()).containsExactly("admin-token");
    }

    @Test
    void keepsGeneratedSecretsReadableByTheOwnerOnly() throws Exception {
        DataFolder folder = new DataFolder(dir);

        Secret key = folder.secret(Optional.empty(), "secret-key", DataFolder::newSecretKey);

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key.file()))).isEqualTo("rw-------");
    }

    @Test
    void writesNothingWhenTheEnvironmentHasTheSecret() {
        Secret token = new DataFolder(dir).secret(Optional.of("from-env"), "service-token", () -> "generated");

        assertThat(token.value()).isEqualTo("from-env");
        assertThat(token.origin()).isEqualTo(Secret.Origin.ENVIRONMENT);
        assertThat(token.file()).isNull();
        assertThat(dir.resolve("service-token")).doesNotExist();
    }

    @Test
    void refusesAnEmptySecretFileRatherThanUsingAnEmptySecret() throws Exception {
        Files.writeString(dir.resolve("admin-token"), "\n");

        assertThatThrownBy(() -> new DataFolder(dir).secret(Optional.empty(), "admin-token", () -> "new"))
                .hasStackTraceContaining("is empty");
    }

    @Test
    void generatesStrongValuesInTheExpectedFormats() {
        assertThat(Base64.getDecoder().decode(DataFolder.newSecretKey())).hasSize(32);
        assertThat(Base64.getUrlDecoder().decode(DataFolder.newToken())).hasSize(32);
        assertThat(DataFolder.newToken()).isNotEqualTo(DataFolder.newToken()).matches("[A-Za-z0-9_-]{43}");
    }

    @Test
    void neverPrintsASecret() {
        Secret secret = new DataFolder(dir).secret(Optional.of("s3cret"), "admin-token", () -> "x");

        assertThat(secret.toString()).doesNotContain("s3cret");
    }
}
