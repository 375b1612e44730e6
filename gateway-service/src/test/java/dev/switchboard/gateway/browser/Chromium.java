package dev.switchboard.gateway.browser;

import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.logging.Level;
import java.util.stream.Stream;

/**
 * Headless Chromium driven by the system's ChromeDriver ({@code apt-get install chromium
 * chromium-driver}; CI installs them). Tests that need it are skipped, with a message saying so,
 * only when {@code /usr/bin/chromium} is missing.
 */
public final class Chromium implements AutoCloseable {

    static final String BINARY = "/usr/bin/chromium";
    static final String DRIVER = "/usr/bin/chromedriver";

    private final ChromeDriver driver;
    private final Path profile;

    private Chromium(ChromeDriver driver, Path profile) {
        this.driver = driver;
        this.profile = profile;
    }

    public static void assumeInstalled() {
        Assumptions.assumeTrue(new File(BINARY).canExecute() && new File(DRIVER).canExecute(),
                "Browser tests skipped: " + BINARY + " or " + DRIVER + " is missing (apt-get install -y chromium chromium-driver)");
    }

    public static Chromium start() {
        assumeInstalled();
        Path profile;
        try {
            profile = Files.createTempDirectory("switchboard-chromium-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(BINARY);
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--user-data-dir=" + profile);
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(DRIVER)).build();
        ChromeDriver driver = new ChromeDriver(service, options);
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
        return new Chromium(driver, profile);
    }

    public ChromeDriver driver() {
        return driver;
    }

    /** The page's console so far (for failure messages). */
    public String console() {
        StringBuilder text = new StringBuilder();
        try {
            for (LogEntry entry : driver.manage().logs().get(LogType.BROWSER)) {
                text.append(entry.getLevel()).append(' ').append(entry.getMessage()).append('\n');
            }
        } catch (RuntimeException e) {
            text.append("(console unavailable: ").append(e.getMessage()).append(")");
        }
        return text.toString();
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            try (Stream<Path> files = Files.walk(profile)) {
                files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            } catch (IOException ignored) {
                // a temp folder left behind
            }
        }
    }
}
