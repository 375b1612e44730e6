package dev.switchboard.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The whole platform as a child process: {@code java -jar switchboard-standalone.jar} on free
 * loopback ports, with its own data folder and the benchmark's database. Its output goes to
 * {@code platform.log} in the work folder.
 */
final class Platform implements AutoCloseable {

    static final Duration READY_TIMEOUT = Duration.ofSeconds(180);
    static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

    final int gatewayPort;
    final int registryPort;
    final int deliveryPort;
    final String adminToken;
    final Path log;
    private final Process process;
    private String stopped;

    private Platform(Process process, int gatewayPort, int registryPort, int deliveryPort, String adminToken, Path log) {
        this.process = process;
        this.gatewayPort = gatewayPort;
        this.registryPort = registryPort;
        this.deliveryPort = deliveryPort;
        this.adminToken = adminToken;
        this.log = log;
    }

    /**
     * @param configDir optional folder of {@code <service>.yml} files, copied to the child's
     *                  {@code ./config/} where each service's Spring Boot reads them over its packaged config
     */
    static Platform start(Path jar, PgUrl database, Path workDir, Path configDir, List<String> javaOptions, String adminToken) {
        int[] ports = freePorts(4);
        Path dataDir = workDir.resolve("data");
        Path log = workDir.resolve("platform.log");
        try {
            Files.createDirectories(dataDir);
            if (configDir != null) {
                Path target = Files.createDirectories(workDir.resolve("config"));
                try (Stream<Path> files = Files.list(configDir)) {
                    for (Path f : (Iterable<Path>) files::iterator) {
                        if (Files.isRegularFile(f)) {
                            Files.copy(f, target.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(javaOptions);
        command.add("-jar");
        command.add(jar.toAbsolutePath().toString());
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Map<String, String> env = builder.environment();
        // Only what the benchmark decides: nothing of the caller's own Switchboard settings leaks in.
        env.keySet().removeIf(k -> k.startsWith("SWITCHBOARD_") || k.endsWith("_PORT"));
        env.put("SWITCHBOARD_DATABASE_URL", database.toUriString());
        env.put("SWITCHBOARD_DATA_DIR", dataDir.toString());
        env.put("SWITCHBOARD_ADMIN_TOKEN", adminToken);
        env.put("SWITCHBOARD_BIND_ADDRESS", "127.0.0.1");
        env.put("GATEWAY_PORT", Integer.toString(ports[0]));
        env.put("REGISTRY_PORT", Integer.toString(ports[1]));
        env.put("DELIVERY_PORT", Integer.toString(ports[2]));
        env.put("WORKFLOW_PORT", Integer.toString(ports[3]));
        try {
            Process process = builder.start();
            Files.writeString(workDir.resolve("platform.pid"), Long.toString(process.pid()));
            return new Platform(process, ports[0], ports[1], ports[2], adminToken, log);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not start " + command, e);
        }
    }

    long pid() {
        return process.pid();
    }

    /**
     * Stops ({@code SIGSTOP}) or continues ({@code SIGCONT}) the platform's process: paused, it takes
     * no CPU (its JIT compiler and timers included) while a peer is measured on the same cores.
     */
    void pause(boolean paused) {
        try {
            Process kill = new ProcessBuilder("kill", paused ? "-STOP" : "-CONT", Long.toString(process.pid())).inheritIO().start();
            if (!kill.waitFor(10, java.util.concurrent.TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill " + (paused ? "-STOP" : "-CONT") + " " + process.pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    String gateway() {
        return "http://127.0.0.1:" + gatewayPort;
    }

    String registry() {
        return "http://127.0.0.1:" + registryPort;
    }

    String delivery() {
        return "http://127.0.0.1:" + deliveryPort;
    }

    /** Waits until every service answers its readiness probe with 200. */
    void awaitReady() throws InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        for (int port : new int[]{registryPort, deliveryPort, gatewayPort}) {
            URI probe = URI.create("http://127.0.0.1:" + port + "/actuator/health/readiness");
            while (true) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("The platform exited with " + process.exitValue() + " during start-up:\n" + tail(40));
                }
                try {
                    HttpResponse<Void> r = http.send(HttpRequest.newBuilder(probe).timeout(Duration.ofSeconds(2)).build(),
                            HttpResponse.BodyHandlers.discarding());
                    if (r.statusCode() == 200) {
                        break;
                    }
                } catch (IOException e) {
                    // not listening yet
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("The platform was not ready within " + READY_TIMEOUT + " (port " + port + "):\n" + tail(40));
                }
                Thread.sleep(250);
            }
        }
    }

    /** SIGTERM, then SIGKILL after {@link #STOP_TIMEOUT}; returns how it ended. Idempotent. */
    synchronized String stop() {
        if (stopped != null) {
            return stopped;
        }
        if (!process.isAlive()) {
            return stopped = "had already exited with " + process.exitValue();
        }
        long began = System.nanoTime();
        process.destroy();
        try {
            if (process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                return stopped = String.format("stopped on SIGTERM in %.1f s (exit %d)", (System.nanoTime() - began) / 1e9, process.exitValue());
            }
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
            return stopped = "did not stop within " + STOP_TIMEOUT.toSeconds() + " s of SIGTERM: killed";
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            return stopped = "killed (interrupted while stopping)";
        }
    }

    @Override
    public void close() {
        stop();
    }

    String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | RuntimeException e) {
            return "(no log: " + e + ")";
        }
    }

    /** Ports free right now on loopback (each socket is held until all are found, so they differ). */
    static int[] freePorts(int n) {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                sockets.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            for (ServerSocket s : sockets) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing a probe socket
                }
            }
        }
    }
}
