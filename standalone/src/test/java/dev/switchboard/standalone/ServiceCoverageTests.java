package dev.switchboard.standalone;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The launcher runs every service that exists, so the README's first command keeps starting everything. */
class ServiceCoverageTests {

    @Test
    void runsEveryServiceModuleWithCode() {
        List<String> modules = RepositoryLayout.serviceModules(RepositoryLayout.root());
        assertThat(Services.ALL).extracting(ServiceDescriptor::name)
                .as("Services.ALL (add a line there and the module's dependency in standalone/pom.xml)")
                .containsExactlyInAnyOrderElementsOf(modules);
    }

    @Test
    void startsTheRegistryFirstOnDistinctPortsAndSchemas() {
        assertThat(Services.ALL.get(0).name()).isEqualTo(Services.REGISTRY);
        assertThat(Services.ALL).extracting(ServiceDescriptor::defaultPort).doesNotHaveDuplicates();
        assertThat(Services.ALL).extracting(ServiceDescriptor::portVariable).doesNotHaveDuplicates();
        assertThat(Services.ALL).extracting(ServiceDescriptor::schema).doesNotHaveDuplicates();
    }
}
