package dev.switchboard.bench;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * A {@code postgresql://user[:password]@host[:port]/database} URL, the form
 * {@code SWITCHBOARD_DATABASE_URL} takes, with what JDBC needs.
 */
record PgUrl(String user, String password, String host, int port, String database) {

    static PgUrl parse(String text) {
        URI uri = URI.create(text.trim());
        if (!"postgresql".equals(uri.getScheme()) && !"postgres".equals(uri.getScheme())) {
            throw new IllegalArgumentException("not a postgresql:// URL: " + text);
        }
        String user = "postgres";
        String password = null;
        if (uri.getRawUserInfo() != null) {
            String[] parts = uri.getRawUserInfo().split(":", 2);
            user = decode(parts[0]);
            password = parts.length > 1 ? decode(parts[1]) : null;
        }
        String path = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
        return new PgUrl(user, password, uri.getHost() == null ? "127.0.0.1" : uri.getHost(),
                uri.getPort() < 0 ? 5432 : uri.getPort(), path.isEmpty() ? "postgres" : path);
    }

    PgUrl withDatabase(String name) {
        return new PgUrl(user, password, host, port, name);
    }

    String jdbcUrl() {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }

    /** The URL as the platform reads it (password included: it is handed to a child process only). */
    String toUriString() {
        String auth = enc(user) + (password == null ? "" : ":" + enc(password));
        return "postgresql://" + auth + "@" + host + ":" + port + "/" + database;
    }

    Connection connect() throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        if (password != null) {
            props.setProperty("password", password);
        }
        props.setProperty("ApplicationName", "switchboard-bench");
        return DriverManager.getConnection(jdbcUrl(), props);
    }

    /** Without the password, for printing. */
    @Override
    public String toString() {
        return "postgresql://" + user + "@" + host + ":" + port + "/" + database;
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    private static String enc(String s) {
        return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
