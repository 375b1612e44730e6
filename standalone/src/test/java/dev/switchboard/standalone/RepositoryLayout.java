package dev.switchboard.standalone;

import org.w3c.dom.Document;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The repository this test runs in: its root and its service modules, read from the root pom. */
final class RepositoryLayout {

    private RepositoryLayout() {
    }

    /** The nearest folder above the working directory whose pom.xml lists the standalone module. */
    static Path root() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path pom = dir.resolve("pom.xml");
            if (Files.isRegularFile(pom) && modules(pom).contains("standalone")) {
                return dir;
            }
        }
        throw new IllegalStateException("No root pom.xml listing the standalone module above " + Path.of("").toAbsolutePath());
    }

    /** Modules that are services: named {@code *-service} and with code of their own. */
    static List<String> serviceModules(Path root) {
        return modules(root.resolve("pom.xml")).stream()
                .filter(m -> m.endsWith("-service"))
                .filter(m -> Files.isDirectory(root.resolve(m).resolve("src/main/java")))
                .toList();
    }

    static List<String> modules(Path pom) {
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            Document doc = factory.newDocumentBuilder().parse(pom.toFile());
            NodeList nodes = doc.getElementsByTagName("module");
            List<String> modules = new ArrayList<>();
            for (int i = 0; i < nodes.getLength(); i++) {
                modules.add(nodes.item(i).getTextContent().trim());
            }
            return modules;
        } catch (Exception e) {
            throw new IllegalStateException("Could not read the modules of " + pom, e);
        }
    }
}
