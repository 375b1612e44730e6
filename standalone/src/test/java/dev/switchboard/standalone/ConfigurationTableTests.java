package dev.switchboard.standalone;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's table of environment variables ("Configuration") is what the services and the
 * launcher read: every {@code ${VARIABLE:default}} of each service's packaged {@code <service>.yml},
 * every variable of {@link Settings} and every port variable of {@link Services} — no more, no less,
 * with the same defaults and readers. And docker-compose.yml sets each service the variables it reads
 * that have no default, and nothing it does not read (the admin token and the secret key reach the
 * registry only).
 */
class ConfigurationTableTests {

    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([A-Z][A-Z0-9_]*):([^}]*)}");
    private static final Pattern ROW = Pattern.compile("^\\| `([A-Z][A-Z0-9_]*)` \\| ([^|]*) \\| ([^|]*) \\|.*\\|\\s*$");

    /** What a variable's row says: its default ("" for none) and who reads it. */
    record Row(String defaultValue, Set<String> readers) {
    }

    static Map<String, Row> documented;
    static Map<String, Row> actual;

    @BeforeAll
    static void read() throws Exception {
        documented = readme();
        actual = variablesRead();
    }

    /** Every variable a service or the launcher reads: its default and its readers ({@code registry}, …, {@code standalone}). */
    static Map<String, Row> variablesRead() throws Exception {
        Map<String, Row> actual = new TreeMap<>();
        for (ServiceDescriptor service : Services.ALL) {
            String reader = service.name().replaceFirst("-service$", "");
            String yml;
            try (InputStream in = ConfigurationTableTests.class.getClassLoader().getResourceAsStream(service.name() + ".yml")) {
                assertThat(in).as(service.name() + ".yml on the classpath").isNotNull();
                yml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            Matcher m = PLACEHOLDER.matcher(yml);
            while (m.find()) {
                add(actual, m.group(1), m.group(2), reader);
            }
            add(actual, service.portVariable(), Integer.toString(service.defaultPort()), "standalone");
        }
        Map<String, String> standaloneDefaults = Map.of(
                Settings.DATA_DIR, Settings.DEFAULT_DATA_DIR,
                Settings.EMBEDDED_DB_PORT, Integer.toString(Settings.DEFAULT_EMBEDDED_DB_PORT),
                Settings.BIND_ADDRESS, Settings.DEFAULT_BIND_ADDRESS);
        for (Field field : Settings.class.getDeclaredFields()) {
            if (Modifier.isStatic(field.getModifiers()) && field.getType() == String.class && !field.getName().startsWith("DEFAULT_")) {
                field.setAccessible(true);
                String name = (String) field.get(null);
                add(actual, name, standaloneDefaults.getOrDefault(name, actual.containsKey(name) ? actual.get(name).defaultValue() : ""), "standalone");
            }
        }
        return actual;
    }

    private static void add(Map<String, Row> actual, String variable, String defaultValue, String reader) {
        Row row = actual.get(variable);
        if (row == null) {
            actual.put(variable, new Row(defaultValue, new TreeSet<>(Set.of(reader))));
        } else {
            assertThat(row.defaultValue()).as("%s has one default everywhere", variable).isEqualTo(defaultValue);
            row.readers().add(reader);
        }
    }

    private static Map<String, Row> readme() throws IOException {
        List<String> lines = Files.readAllLines(RepositoryLayout.root().resolve("README.md"));
        int start = lines.indexOf("## Configuration");
        assertThat(start).as("README has a Configuration section").isNotNegative();
        Map<String, Row> rows = new TreeMap<>();
        for (String line : lines.subList(start + 1, lines.size())) {
            if (line.startsWith("## ")) {
                break;
            }
            Matcher m = ROW.matcher(line);
            if (m.matches()) {
                String cell = m.group(2).trim();
                String defaultValue = cell.equals("–") ? "" : cell.replaceAll("^`|`$", "");
                Set<String> readers = new TreeSet<>();
                for (String reader : m.group(3).split(",")) {
                    readers.add(reader.trim());
                }
                assertThat(rows.put(m.group(1), new Row(defaultValue, readers))).as("%s listed once", m.group(1)).isNull();
            }
        }
        return rows;
    }

    @Test
    void theTableListsEveryVariableReadAndNoOther() {
        assertThat(documented.keySet()).containsExactlyInAnyOrderElementsOf(actual.keySet());
    }

    @Test
    void eachRowHasTheDefaultAndTheReadersThatAreTrue() {
        actual.forEach((variable, row) -> {
            assertThat(documented).containsKey(variable);
            assertThat(documented.get(variable).defaultValue()).as("%s's default", variable).isEqualTo(row.defaultValue());
            assertThat(documented.get(variable).readers()).as("who reads %s", variable).isEqualTo(row.readers());
        });
    }

    @Test
    @SuppressWarnings("unchecked")
    void composeSetsEachServiceWhatItNeedsAndNothingItDoesNotRead() throws IOException {
        Map<String, Object> compose = new Yaml(new SafeConstructor(new LoaderOptions()))
                .load(Files.readString(RepositoryLayout.root().resolve("docker-compose.yml")));
        Map<String, Object> services = (Map<String, Object>) compose.get("services");
        List<String> checked = new ArrayList<>();
        for (ServiceDescriptor service : Services.ALL) {
            String reader = service.name().replaceFirst("-service$", "");
            Map<String, Object> entry = (Map<String, Object>) services.get(service.name());
            assertThat(entry).as(service.name() + " in docker-compose.yml").isNotNull();
            Object environment = entry.get("environment");
            assertThat(environment).as(service.name() + " has an environment in docker-compose.yml").isNotNull();
            Set<String> set = ((Map<String, Object>) environment).keySet();
            actual.forEach((variable, row) -> {
                if (row.readers().contains(reader) && row.defaultValue().isEmpty()) {
                    assertThat(set).as("docker-compose.yml sets %s for %s (it has no default)", variable, service.name()).contains(variable);
                }
            });
            for (String variable : set) {
                assertThat(actual).as("%s sets %s", service.name(), variable).containsKey(variable);
                assertThat(actual.get(variable).readers()).as("%s reads %s (set for it in docker-compose.yml)", service.name(), variable)
                        .contains(reader);
                checked.add(variable);
            }
        }
        assertThat(checked).as("the compose file sets variables at all").isNotEmpty();
    }
}
