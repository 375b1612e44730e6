package dev.switchboard.platform.database;

import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A PostgreSQL connection URI of the form {@code postgresql://user:password@host:port/database}
 * (also {@code postgres://}), the one form every Switchboard setting that names a database takes,
 * turned into what JDBC (Flyway) and R2DBC each want.
 */
public record PostgresUri(String host, int port, String database, String user, String password) {

    public static final int DEFAULT_PORT = 5432;

    public PostgresUri {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(database, "database");
        user = user == null ? "" : user;
        password = password == null ? "" : password;
    }

    /** @throws IllegalArgumentException when {@code text} is not a PostgreSQL URI with a database */
    public static PostgresUri parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty database URL");
        }
        URI uri;
        try {
            uri = URI.create(text.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("database URL is not a URI (expected postgresql://user:password@host:port/database)");
        }
        if (!"postgresql".equals(uri.getScheme()) && !"postgres".equals(uri.getScheme())) {
            throw new IllegalArgumentException("database URL must start with postgresql:// (got scheme " + uri.getScheme() + ")");
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException("database URL has no host");
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath().replaceFirst("^/", "");
        if (path.isEmpty()) {
            throw new IllegalArgumentException("database URL names no database");
        }
        String user = null;
        String password = null;
        if (uri.getRawUserInfo() != null) {
            String[] parts = uri.getRawUserInfo().split(":", 2);
            user = decode(parts[0]);
            password = parts.length > 1 ? decode(parts[1]) : null;
        }
        return new PostgresUri(uri.getHost(), uri.getPort() < 0 ? DEFAULT_PORT : uri.getPort(), decode(path), user, password);
    }

    /** The same server, another database. */
    public PostgresUri withDatabase(String other) {
        return new PostgresUri(host, port, other, user, password);
    }

    /** {@code jdbc:postgresql://host:port/database}; credentials go separately. */
    public String jdbcUrl() {
        return "jdbc:postgresql://" + host + ":" + port + "/" + encode(database);
    }

    /** {@code r2dbc:postgresql://host:port/database}; credentials go separately. */
    public String r2dbcUrl() {
        return "r2dbc:postgresql://" + host + ":" + port + "/" + encode(database);
    }

    /** The URI form, password included; never log it. */
    public String toUriString() {
        String auth = user.isEmpty() ? "" : encode(user) + (password.isEmpty() ? "" : ":" + encode(password)) + "@";
        return "postgresql://" + auth + host + ":" + port + "/" + encode(database);
    }

    /** The URI form without the password, for logs. */
    @Override
    public String toString() {
        return "postgresql://" + (user.isEmpty() ? "" : encode(user) + "@") + host + ":" + port + "/" + encode(database);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
