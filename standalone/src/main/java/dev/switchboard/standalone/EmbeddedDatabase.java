package dev.switchboard.standalone;

import dev.switchboard.platform.database.PostgresUri;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A PostgreSQL server of its own (zonky's binaries, Linux and macOS) whose cluster lives in the
 * data folder and survives restarts: it is initialised on the first start only and never cleaned.
 * It listens on localhost with trust authentication, so it is for one machine (development and
 * small installs); anything shared gets {@code SWITCHBOARD_DATABASE_URL}. Every commit is durable
 * ({@code fsync}, {@code synchronous_commit} and {@code full_page_writes} on), as on a real server.
 */
final class EmbeddedDatabase implements AutoCloseable {

    /** The database the services share (each in its own schema). */
    static final String DATABASE = "switchboard";
    static final String USER = "postgres";

    /** zonky's lock file in the cluster folder, held while a server runs on it. */
    private static final String ZONKY_LOCK = "epg-lock";
    private static final Duration ORPHAN_STOP_WAIT = Duration.ofSeconds(20);

    private final EmbeddedPostgres postgres;
    private final PostgresUri uri;

    private EmbeddedDatabase(EmbeddedPostgres postgres, PostgresUri uri) {
        this.postgres = postgres;
        this.uri = uri;
    }

    /**
     * Starts the server on {@code pgdata} (created on the first start) and creates the
     * {@value #DATABASE} database if missing.
     *
     * @param log where PostgreSQL's own output goes
     */
    static EmbeddedDatabase start(Path pgdata, int port, Path log) {
        stopOrphan(pgdata);
        // zonky takes any server answering on the port for its own: with another PostgreSQL
        // there, the services would silently use that one.
        if (listening(port)) {
            throw new IllegalStateException("Port " + port + " is already taken, so the embedded PostgreSQL cannot use it: set "
                    + Settings.EMBEDDED_DB_PORT + " to a free port, or " + Settings.DATABASE_URL + " to use that server");
        }
        EmbeddedPostgres postgres;
        try {
            Files.createDirectories(pgdata);
            postgres = EmbeddedPostgres.builder()
                    .setDataDirectory(pgdata)
                    .setCleanDataDirectory(false)
                    .setPort(port)
                    // The launcher stops PostgreSQL itself, after the services that use it.
                    .setRegisterShutdownHook(false)
                    // zonky starts PostgreSQL with -F (fsync off) and synchronous_commit off, for
                    // throwaway test databases. This one keeps the events we acknowledged as
                    // committed: a commit must be on disk before it returns. Later -c options win.
                    .setServerConfig("fsync", "on")
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("full_page_writes", "on")
                    .setServerConfig("listen_addresses", "localhost")
                    .setPGStartupWait(Duration.ofSeconds(60))
                    .setOutputRedirector(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .setErrorRedirector(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("The embedded PostgreSQL did not start on port " + port + " with data in " + pgdata
                    + " (" + e.getMessage() + "). Is the port taken (set " + Settings.EMBEDDED_DB_PORT + ")? See " + log, e);
        }
        EmbeddedDatabase db = new EmbeddedDatabase(postgres, new PostgresUri("localhost", port, DATABASE, USER, ""));
        try {
            db.checkServesFrom(pgdata);
            Databases.createIfMissing(db.uri);
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
        return db;
    }

    /** Guards against a server that took the port between the check and the start. */
    private void checkServesFrom(Path pgdata) {
        PostgresUri maintenance = uri.withDatabase(Databases.MAINTENANCE_DATABASE);
        try (Connection c = Databases.connect(maintenance); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SHOW data_directory")) {
            rs.next();
            Path served = Path.of(rs.getString(1));
            if (!Files.isDirectory(served) || !Files.isSameFile(served, pgdata)) {
                throw new IllegalStateException("The PostgreSQL on port " + uri.port() + " serves " + served + ", not " + pgdata
                        + ": another server has the port; set " + Settings.EMBEDDED_DB_PORT + " to a free one");
            }
        } catch (SQLException | IOException e) {
            throw new IllegalStateException("Could not check the embedded PostgreSQL on port " + uri.port() + ": " + e.getMessage(), e);
        }
    }

    private static boolean listening(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    PostgresUri uri() {
        return uri;
    }

    /** Stops the server (a fast shutdown: open sessions are ended, data is flushed). */
    @Override
    public void close() {
        try {
            postgres.close();
        } catch (IOException e) {
            throw new UncheckedIOException("Could not stop the embedded PostgreSQL", e);
        }
    }

    /**
     * A launcher killed without its shutdown hook (kill -9, an IDE's stop button) leaves its
     * PostgreSQL running on the cluster, and the next start would fail on it. When nobody holds
     * the cluster's lock, a postmaster still named in {@code postmaster.pid} is such an orphan:
     * it is asked to stop.
     */
    static void stopOrphan(Path pgdata) {
        Path pidFile = pgdata.resolve("postmaster.pid");
        if (!Files.isRegularFile(pidFile)) {
            return;
        }
        Optional<ProcessHandle> postmaster = postmaster(pidFile);
        if (postmaster.isEmpty()) {
            return; // stale pid file: PostgreSQL itself removes it on start
        }
        try (FileChannel channel = FileChannel.open(pgdata.resolve(ZONKY_LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw new IllegalStateException("Another Switchboard is running on " + pgdata
                        + ": stop it, or give this one another " + Settings.DATA_DIR);
            }
            try (FileLock held = lock) {
                ProcessHandle process = postmaster.get();
                System.out.println("Stopping PostgreSQL (pid " + process.pid() + ") left running on " + pgdata + " by an earlier launcher");
                // SIGTERM: PostgreSQL's smart shutdown; the earlier launcher's sessions died with it.
                process.destroy();
                process.onExit().get(ORPHAN_STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Could not check " + pgdata + " for a running PostgreSQL", e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("PostgreSQL (pid " + postmaster.get().pid() + ") on " + pgdata + " did not stop within "
                    + ORPHAN_STOP_WAIT.toSeconds() + " s: stop it by hand", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("Could not wait for PostgreSQL to stop", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while stopping an earlier PostgreSQL", e);
        }
    }

    /** The live PostgreSQL process a {@code postmaster.pid} names, if it is one. */
    private static Optional<ProcessHandle> postmaster(Path pidFile) {
        List<String> lines;
        try {
            lines = Files.readAllLines(pidFile, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return Optional.empty();
        }
        if (lines.isEmpty()) {
            return Optional.empty();
        }
        long pid;
        try {
            pid = Long.parseLong(lines.get(0).trim());
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        // A pid can be reused by an unrelated process after a reboot: only a postgres executable counts.
        return ProcessHandle.of(pid)
                .filter(ProcessHandle::isAlive)
                .filter(p -> p.info().command().map(c -> Path.of(c).getFileName().toString().startsWith("postgres")).orElse(false));
    }
}
