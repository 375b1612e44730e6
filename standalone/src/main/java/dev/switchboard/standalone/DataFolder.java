package dev.switchboard.standalone;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The launcher's folder on disk. Layout:
 * <pre>
 * admin-token     generated admin token (only when SWITCHBOARD_ADMIN_TOKEN is unset), mode 600
 * service-token   generated service token (only when SWITCHBOARD_SERVICE_TOKEN is unset), mode 600
 * secret-key      generated client-secret key (only when SWITCHBOARD_SECRET_KEY is unset), mode 600
 * pgdata/         the embedded PostgreSQL cluster (only without SWITCHBOARD_DATABASE_URL)
 * postgres.log    the embedded PostgreSQL's own log
 * </pre>
 * A generated secret is written once and read back on every later start, so tokens handed out
 * stay valid and client secrets encrypted with the key stay readable across restarts.
 */
final class DataFolder {

    static final String ADMIN_TOKEN_FILE = "admin-token";
    static final String SERVICE_TOKEN_FILE = "service-token";
    static final String SECRET_KEY_FILE = "secret-key";
    static final String PGDATA = "pgdata";
    static final String POSTGRES_LOG = "postgres.log";

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private final Path root;

    DataFolder(Path root) {
        this.root = root;
    }

    Path root() {
        return root;
    }

    Path resolve(String name) {
        return root.resolve(name);
    }

    /**
     * A secret: the configured value when there is one (nothing is written then), else the value
     * stored in {@code fileName}, else a new one from {@code generator}, stored there first.
     */
    Secret secret(Optional<String> configured, String fileName, Supplier<String> generator) {
        if (configured.isPresent()) {
            return new Secret(configured.get(), Secret.Origin.ENVIRONMENT, null);
        }
        Path file = root.resolve(fileName);
        try {
            Optional<String> stored = read(file);
            if (stored.isPresent()) {
                return new Secret(stored.get(), Secret.Origin.STORED, file);
            }
            String value = generator.get();
            write(file, value);
            return new Secret(value, Secret.Origin.GENERATED, file);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not read or write " + file, e);
        }
    }

    /** Creates the folder when it is missing. */
    void create() {
        try {
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not create the data folder " + root, e);
        }
    }

    /** 32 random bytes, URL-safe base64 without padding: a bearer token. */
    static String newToken() {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(randomBytes(32));
    }

    /** 32 random bytes, base64: the AES-256 key format of {@code SWITCHBOARD_SECRET_KEY}. */
    static String newSecretKey() {
        return Base64.getEncoder().encodeToString(randomBytes(32));
    }

    private static byte[] randomBytes(int n) {
        byte[] bytes = new byte[n];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    private static Optional<String> read(Path file) throws IOException {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        String value = Files.readString(file, StandardCharsets.UTF_8).trim();
        if (value.isEmpty()) {
            throw new IOException(file + " is empty: delete it to generate a new value, or set the variable it stands for");
        }
        return Optional.of(value);
    }

    /** Written to a private temporary file first, then moved, so no reader ever sees half a secret or a readable one. */
    private static void write(Path file, String value) throws IOException {
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        try {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        } catch (UnsupportedOperationException e) {
            // Not a POSIX file system: the folder's own permissions are all there is.
            Files.createFile(tmp);
        }
        Files.writeString(tmp, value + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * @param value  the secret itself; never log it
     * @param origin where it came from
     * @param file   where it is stored, unless it came from the environment
     */
    record Secret(String value, Origin origin, Path file) {

        enum Origin { ENVIRONMENT, STORED, GENERATED }

        @Override
        public String toString() {
            return "Secret[origin=" + origin + ", file=" + file + "]";
        }
    }
}
