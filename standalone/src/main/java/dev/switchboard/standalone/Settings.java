package dev.switchboard.standalone;

import dev.switchboard.platform.database.PostgresUri;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * What the launcher reads from its environment, with the defaults of a one-machine install.
 *
 * @param dataFolder      {@code SWITCHBOARD_DATA_DIR}, default {@code ./.switchboard}: generated secrets and the embedded PostgreSQL's data
 * @param databaseUrl     {@code SWITCHBOARD_DATABASE_URL}; empty means the embedded PostgreSQL
 * @param embeddedDbPort  {@code SWITCHBOARD_EMBEDDED_DB_PORT}, default {@value #DEFAULT_EMBEDDED_DB_PORT}
 * @param bindAddress     {@code SWITCHBOARD_BIND_ADDRESS}, default {@value #DEFAULT_BIND_ADDRESS}: the services listen on loopback only unless told otherwise
 * @param adminToken      {@code SWITCHBOARD_ADMIN_TOKEN}; empty means generated once per data folder
 * @param serviceToken    {@code SWITCHBOARD_SERVICE_TOKEN}; empty means generated once per data folder
 * @param secretKey       {@code SWITCHBOARD_SECRET_KEY}; empty means generated once per data folder
 * @param environment     the whole environment, for each service's port variable
 */
record Settings(Path dataFolder, Optional<PostgresUri> databaseUrl, int embeddedDbPort, String bindAddress,
                Optional<String> adminToken, Optional<String> serviceToken, Optional<String> secretKey,
                Map<String, String> environment) {

    static final String DATA_DIR = "SWITCHBOARD_DATA_DIR";
    static final String DATABASE_URL = "SWITCHBOARD_DATABASE_URL";
    static final String EMBEDDED_DB_PORT = "SWITCHBOARD_EMBEDDED_DB_PORT";
    static final String BIND_ADDRESS = "SWITCHBOARD_BIND_ADDRESS";
    static final String ADMIN_TOKEN = "SWITCHBOARD_ADMIN_TOKEN";
    static final String SERVICE_TOKEN = "SWITCHBOARD_SERVICE_TOKEN";
    static final String SECRET_KEY = "SWITCHBOARD_SECRET_KEY";
    /** Development mode: read by the gateway itself (its dev token endpoint) and here (the demo tenant). */
    static final String DEV = "SWITCHBOARD_DEV";

    static final String DEFAULT_DATA_DIR = ".switchboard";
    static final int DEFAULT_EMBEDDED_DB_PORT = 54329;
    static final String DEFAULT_BIND_ADDRESS = "127.0.0.1";

    /**
     * @param env        the process environment
     * @param workingDir where a relative {@code SWITCHBOARD_DATA_DIR} (and the default) is resolved
     * @throws IllegalArgumentException naming the variable that is wrong
     */
    static Settings from(Map<String, String> env, Path workingDir) {
        Path dataFolder = workingDir.resolve(value(env, DATA_DIR).orElse(DEFAULT_DATA_DIR)).toAbsolutePath().normalize();
        Optional<PostgresUri> databaseUrl = value(env, DATABASE_URL).map(url -> {
            try {
                return PostgresUri.parse(url);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(DATABASE_URL + ": " + e.getMessage(), e);
            }
        });
        return new Settings(dataFolder, databaseUrl, port(env, EMBEDDED_DB_PORT, DEFAULT_EMBEDDED_DB_PORT),
                value(env, BIND_ADDRESS).orElse(DEFAULT_BIND_ADDRESS),
                value(env, ADMIN_TOKEN), value(env, SERVICE_TOKEN), value(env, SECRET_KEY), Map.copyOf(env));
    }

    /** The port of one service: its variable, else its default. */
    int port(ServiceDescriptor service) {
        return port(environment, service.portVariable(), service.defaultPort());
    }

    /** Whether {@code SWITCHBOARD_DEV} is {@code true}: development mode. */
    boolean dev() {
        return "true".equalsIgnoreCase(value(environment, DEV).orElse(""));
    }

    /** The host other processes on this machine use to reach a service bound to {@link #bindAddress()}. */
    String localHost() {
        return switch (bindAddress) {
            case "0.0.0.0", "::", "[::]", "*" -> "127.0.0.1";
            default -> bindAddress.contains(":") && !bindAddress.startsWith("[") ? "[" + bindAddress + "]" : bindAddress;
        };
    }

    /** Without the secrets, so the settings can be logged. */
    @Override
    public String toString() {
        return "Settings[dataFolder=" + dataFolder + ", databaseUrl=" + databaseUrl.map(PostgresUri::toString).orElse("embedded")
                + ", embeddedDbPort=" + embeddedDbPort + ", bindAddress=" + bindAddress + "]";
    }

    private static int port(Map<String, String> env, String variable, int defaultPort) {
        Optional<String> text = value(env, variable);
        if (text.isEmpty()) {
            return defaultPort;
        }
        try {
            int port = Integer.parseInt(text.get());
            if (port >= 1 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // reported below, with the variable's name
        }
        throw new IllegalArgumentException(variable + " must be a port number from 1 to 65535, got '" + text.get() + "'");
    }

    private static Optional<String> value(Map<String, String> env, String name) {
        return Optional.ofNullable(env.get(name)).map(String::trim).filter(s -> !s.isEmpty());
    }
}
