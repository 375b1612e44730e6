package dev.switchboard.gateway;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The npm packages of the Durable Streams tests ({@code src/test/durable-streams}: the server
 * conformance suite, the client and the AI SDK transport, versions locked), installed once per test
 * JVM into {@code target/durable-streams} with {@code npm ci}, and the Node commands run there. Outside
 * CI the tests that need Node are skipped when it is not installed; in CI ({@code CI=true}) they must run.
 */
final class NodePackages {

    static final Path SOURCES = Path.of("src", "test", "durable-streams");
    static final Path WORK = Path.of("target", "durable-streams");
    private static final List<String> FILES = List.of("package.json", "package-lock.json", "conformance.test.mjs", "vitest.config.mjs",
            "aisdk-roundtrip.mjs", "client-page.html");
    private static boolean installed;

    private NodePackages() {
    }

    static void assumeNode() {
        assumeTrue("true".equals(System.getenv("CI")) || onPath("npx"), "Node (npx) is not installed; CI runs this test");
    }

    /** The work folder, with the packages installed. */
    static synchronized Path install() throws IOException, InterruptedException {
        Files.createDirectories(WORK);
        for (String file : FILES) {
            Files.copy(SOURCES.resolve(file), WORK.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
        if (!installed) {
            Result npm = run(Duration.ofMinutes(5), Map.of(), "npm", "ci", "--no-audit", "--no-fund");
            assertThat(npm.exit()).as("npm ci:%n%s", tail(npm.output())).isZero();
            installed = true;
        }
        return WORK;
    }

    record Result(int exit, String output) {
    }

    /** Runs a command in the work folder with {@code environment} added; its output, stdout and stderr together. */
    static Result run(Duration limit, Map<String, String> environment, String... command) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(WORK.toFile()).redirectErrorStream(true);
        builder.environment().putAll(environment);
        builder.environment().put("NO_COLOR", "1");
        Path log = WORK.resolve(command[0] + "-" + (command.length > 1 ? command[1] : "run") + ".log");
        builder.redirectOutput(log.toFile());
        Process process = builder.start();
        if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish within " + limit + ":\n" + tail(Files.readString(log)));
        }
        return new Result(process.exitValue(), Files.readString(log));
    }

    static String tail(String output) {
        return output.length() <= 4000 ? output : output.substring(output.length() - 4000);
    }

    private static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }
}
