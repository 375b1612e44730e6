package dev.switchboard.standalone;

import dev.switchboard.platform.database.PostgresUri;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/** Start-up JDBC against an existing PostgreSQL server (the only JDBC the launcher does). */
final class Databases {

    /** The server's maintenance database, where {@code CREATE DATABASE} is run. */
    static final String MAINTENANCE_DATABASE = "postgres";

    private static final String INVALID_CATALOG_NAME = "3D000";
    private static final String DUPLICATE_DATABASE = "42P04";

    private Databases() {
    }

    /**
     * Creates the database {@code uri} names unless it exists. Connecting to it first means a user
     * who may not connect to {@code postgres} still works against a database made for it.
     *
     * @return whether it was created
     */
    static boolean createIfMissing(PostgresUri uri) {
        try (Connection ignored = connect(uri)) {
            return false;
        } catch (SQLException e) {
            if (!INVALID_CATALOG_NAME.equals(e.getSQLState())) {
                throw new IllegalStateException("Could not connect to " + uri + ": " + e.getMessage(), e);
            }
        }
        PostgresUri maintenance = uri.withDatabase(MAINTENANCE_DATABASE);
        try (Connection c = connect(maintenance); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + quote(uri.database()));
            return true;
        } catch (SQLException e) {
            if (DUPLICATE_DATABASE.equals(e.getSQLState())) {
                return false; // created meanwhile by someone else: fine
            }
            throw new IllegalStateException("Database " + uri.database() + " does not exist and could not be created through "
                    + maintenance + ": " + e.getMessage(), e);
        }
    }

    static Connection connect(PostgresUri uri) throws SQLException {
        return DriverManager.getConnection(uri.jdbcUrl(), uri.user(), uri.password());
    }

    /** A PostgreSQL quoted identifier, so any database name in the URL works and none injects SQL. */
    static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }
}
