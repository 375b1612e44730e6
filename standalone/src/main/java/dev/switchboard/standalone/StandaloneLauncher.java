package dev.switchboard.standalone;

import dev.switchboard.platform.database.PostgresUri;
import dev.switchboard.standalone.DataFolder.Secret;
import org.springframework.boot.logging.LogLevel;
import org.springframework.boot.logging.LoggingSystem;
import org.springframework.context.ConfigurableApplicationContext;
import reactor.netty.resources.LoopResources;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;

/**
 * Every Switchboard service on one machine, in one JVM, without Docker:
 * {@code java -jar standalone/target/switchboard-standalone.jar}.
 * <p>
 * Each service runs as its own Spring application context on its own port, with its own config
 * file and schema, exactly as its own jar would; they share a database (the one
 * {@code SWITCHBOARD_DATABASE_URL} names, created if missing, else an embedded PostgreSQL whose
 * data lives in the data folder) and the secrets (from the environment, else generated once and
 * kept in the data folder). See {@link Settings} for every variable.
 */
public final class StandaloneLauncher {

    private static final Duration LOOPS_SHUTDOWN = Duration.ofSeconds(2);

    private final Settings settings;
    private final List<ServiceDescriptor> services;
    private final PrintStream out;
    private final DataFolder dataFolder;
    /** Under every service; disposed once the last has closed. */
    private final LoopResources loops = SharedJvm.newLoops();

    // Guarded by this: what runs, so the shutdown hook can stop it in reverse order.
    private final List<ConfigurableApplicationContext> running = new ArrayList<>();
    private EmbeddedDatabase embedded;
    private boolean stopped;

    StandaloneLauncher(Settings settings, List<ServiceDescriptor> services, PrintStream out) {
        this.settings = settings;
        this.services = List.copyOf(services);
        this.out = out;
        this.dataFolder = new DataFolder(settings.dataFolder());
    }

    public static void main(String[] args) {
        // Until the first service sets logging up, keep library chatter (zonky's, at DEBUG) off the console.
        LoggingSystem.get(StandaloneLauncher.class.getClassLoader()).beforeInitialize();
        Settings settings;
        try {
            settings = Settings.from(System.getenv(), Path.of("").toAbsolutePath());
        } catch (IllegalArgumentException e) {
            System.err.println("Switchboard: " + e.getMessage());
            System.exit(2);
            return;
        }
        StandaloneLauncher launcher = new StandaloneLauncher(settings, Services.ALL, System.out);
        Runtime.getRuntime().addShutdownHook(new Thread(launcher::stop, "switchboard-stop"));
        try {
            launcher.start(args);
        } catch (RuntimeException | Error e) {
            if (launcher.stop()) {
                System.err.println();
                System.err.println("Switchboard did not start: " + describe(e));
                System.exit(1);
            }
            // else the JVM is already shutting down (Ctrl-C during start-up): nothing to add
        }
    }

    /** Starts the database, then every service in order; returns once all of them are ready. */
    void start(String... args) {
        long began = System.nanoTime();
        out.println("Switchboard standalone: data folder " + dataFolder.root());
        dataFolder.create();

        Secret secretKey = dataFolder.secret(settings.secretKey(), DataFolder.SECRET_KEY_FILE, DataFolder::newSecretKey);
        checkSecretKey(secretKey);
        Secret adminToken = dataFolder.secret(settings.adminToken(), DataFolder.ADMIN_TOKEN_FILE, DataFolder::newToken);
        Secret serviceToken = dataFolder.secret(settings.serviceToken(), DataFolder.SERVICE_TOKEN_FILE, DataFolder::newToken);

        PostgresUri database = database();
        ServiceArguments.Shared shared = new ServiceArguments.Shared(database, adminToken.value(), serviceToken.value(),
                secretKey.value(), serviceUrl(Services.REGISTRY), serviceUrl(Services.DELIVERY),
                serviceUrl(Services.WORKFLOW));

        for (ServiceDescriptor service : services) {
            int port = settings.port(service);
            out.println("Starting " + service.name() + " on port " + port + " ...");
            String[] serviceArgs = ServiceArguments.of(service, port, settings.bindAddress(), shared, args);
            ConfigurableApplicationContext context = ServiceLogName.actingFor(service.name(),
                    () -> SharedJvm.prepare(service.application().get(), loops).run(serviceArgs));
            synchronized (this) {
                if (stopped) {
                    ServiceLogName.actingFor(service.name(), context::close);
                    throw new IllegalStateException("stopped during start-up");
                }
                running.add(context);
            }
        }
        // zonky reports its routine stop at INFO ("Did not clean up directory ..."), which reads like a problem.
        LoggingSystem.get(StandaloneLauncher.class.getClassLoader()).setLogLevel("io.zonky.test.db", LogLevel.WARN);
        String demo = settings.dev() && hasService(Services.REGISTRY) && hasService(Services.GATEWAY)
                ? "demo page at " + serviceUrl(Services.GATEWAY) + "/; " + new DemoTenant(serviceUrl(Services.REGISTRY), adminToken.value(),
                        hasService(Services.WORKFLOW) ? serviceUrl(Services.WORKFLOW) : null, shared.serviceToken()).ensure()
                : null;
        printSummary(database, adminToken, secretKey, demo, Duration.ofNanos(System.nanoTime() - began));
    }

    /**
     * Stops the services in reverse start order, then PostgreSQL, so no service loses its
     * database while it is still finishing requests.
     *
     * @return false when it had already run
     */
    boolean stop() {
        List<ConfigurableApplicationContext> contexts;
        EmbeddedDatabase db;
        synchronized (this) {
            if (stopped) {
                return false;
            }
            stopped = true;
            contexts = new ArrayList<>(running);
            running.clear();
            db = embedded;
            embedded = null;
        }
        if (!contexts.isEmpty() || db != null) {
            out.println("Switchboard stopping ...");
        }
        Collections.reverse(contexts);
        for (ConfigurableApplicationContext context : contexts) {
            try {
                // A context's id is its spring.application.name: the service's name.
                ServiceLogName.actingFor(context.getId(), context::close);
            } catch (RuntimeException e) {
                System.err.println("Could not stop " + context.getId() + ": " + describe(e));
            }
        }
        try {
            loops.disposeLater(Duration.ZERO, LOOPS_SHUTDOWN).block(LOOPS_SHUTDOWN.plusSeconds(1));
        } catch (RuntimeException e) {
            System.err.println("Could not stop the event loops: " + describe(e));
        }
        if (db != null) {
            try {
                db.close();
            } catch (RuntimeException e) {
                System.err.println(describe(e));
            }
        }
        if (!contexts.isEmpty() || db != null) {
            out.println("Switchboard stopped.");
        }
        return true;
    }

    private PostgresUri database() {
        if (settings.databaseUrl().isPresent()) {
            PostgresUri uri = settings.databaseUrl().get();
            boolean created = Databases.createIfMissing(uri);
            out.println("Database " + uri + (created ? " (created)" : ""));
            return uri;
        }
        Path pgdata = dataFolder.resolve(DataFolder.PGDATA);
        out.println("Starting the embedded PostgreSQL on port " + settings.embeddedDbPort() + ", data in " + pgdata + " ...");
        EmbeddedDatabase db = EmbeddedDatabase.start(pgdata, settings.embeddedDbPort(), dataFolder.resolve(DataFolder.POSTGRES_LOG));
        synchronized (this) {
            if (stopped) {
                db.close();
                throw new IllegalStateException("stopped during start-up");
            }
            embedded = db;
        }
        return db.uri();
    }

    private boolean hasService(String name) {
        return services.stream().anyMatch(s -> s.name().equals(name));
    }

    private String serviceUrl(String name) {
        return services.stream()
                .filter(s -> s.name().equals(name))
                .findFirst()
                .map(s -> "http://" + settings.localHost() + ":" + settings.port(s))
                .orElseThrow(() -> new IllegalStateException(name + " is not among the services"));
    }

    private static void checkSecretKey(Secret key) {
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(key.value());
        } catch (IllegalArgumentException e) {
            bytes = new byte[0];
        }
        if (bytes.length != 32) {
            String where = key.file() == null ? Settings.SECRET_KEY : key.file().toString();
            throw new IllegalArgumentException(where + " must hold base64 of 32 random bytes (e.g. `openssl rand -base64 32`)");
        }
    }

    private void printSummary(PostgresUri database, Secret adminToken, Secret secretKey, String demo, Duration took) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"service", "URL"});
        for (ServiceDescriptor service : services) {
            rows.add(new String[] {service.name(), "http://" + settings.localHost() + ":" + settings.port(service)});
        }
        rows.add(new String[] {"", ""});
        rows.add(new String[] {"data folder", dataFolder.root().toString()});
        rows.add(new String[] {"database", database + (settings.databaseUrl().isEmpty()
                ? " (embedded, data in " + dataFolder.resolve(DataFolder.PGDATA) + ")" : "")});
        rows.add(new String[] {"admin token", switch (adminToken.origin()) {
            case ENVIRONMENT -> "from " + Settings.ADMIN_TOKEN;
            case STORED, GENERATED -> "in " + adminToken.file();
        }});
        rows.add(new String[] {"secret key", switch (secretKey.origin()) {
            case ENVIRONMENT -> "from " + Settings.SECRET_KEY;
            case STORED, GENERATED -> secretKey.file() + " (back it up: client secrets are encrypted with it)";
        }});
        if (demo != null) {
            rows.add(new String[] {"development mode", demo});
        }
        int width = rows.stream().mapToInt(r -> r[0].length()).max().orElse(0) + 3;

        StringBuilder text = new StringBuilder(System.lineSeparator());
        text.append(String.format("Switchboard is running: %d service%s, started in %.1f s%n",
                services.size(), services.size() == 1 ? "" : "s", took.toMillis() / 1000.0));
        text.append(System.lineSeparator());
        for (String[] row : rows) {
            text.append(row[0].isEmpty() ? "" : "  " + pad(row[0], width) + row[1]).append(System.lineSeparator());
        }
        if (adminToken.origin() == Secret.Origin.GENERATED) {
            String rule = "=".repeat(78);
            text.append(System.lineSeparator()).append(rule).append(System.lineSeparator())
                    .append("  Admin token (generated now, shown this once; kept in ").append(adminToken.file()).append("):")
                    .append(System.lineSeparator()).append(System.lineSeparator())
                    .append("      ").append(adminToken.value()).append(System.lineSeparator()).append(System.lineSeparator())
                    .append("  Send it as 'Authorization: Bearer <token>' to /admin/v1 on ").append(Services.REGISTRY)
                    .append(System.lineSeparator())
                    .append("  Set ").append(Settings.ADMIN_TOKEN).append(" to choose your own.").append(System.lineSeparator())
                    .append(rule).append(System.lineSeparator());
        }
        text.append(System.lineSeparator()).append("Stop with Ctrl-C.").append(System.lineSeparator());
        out.print(text);
        out.flush();
    }

    private static String pad(String s, int width) {
        return s + " ".repeat(Math.max(1, width - s.length()));
    }

    /** The message chain, without stack traces: Spring has already logged those. */
    static String describe(Throwable e) {
        StringBuilder text = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
            if (text.indexOf(message) < 0) {
                text.append(text.length() == 0 ? "" : System.lineSeparator() + "  caused by: ").append(message);
            }
        }
        return text.toString();
    }
}
