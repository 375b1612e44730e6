package dev.switchboard.registry;

import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;
import org.springframework.test.context.TestPropertySource;

/** An operator who does not want the API described turns the document and its UI off. */
@TestPropertySource(properties = "SWITCHBOARD_OPENAPI=false")
class OpenApiSwitchIntegrationTests extends RegistryIntegrationTest {

    @Test
    void documentAndUiAreGoneWhenSwitchedOff() {
        assertProblem(anonymous().get().uri("/v3/api-docs").exchange(), HttpStatus.NOT_FOUND, "not_found");
        assertProblem(anonymous().get().uri("/swagger-ui.html").exchange(), HttpStatus.NOT_FOUND, "not_found");
        assertProblem(admin().get().uri("/v3/api-docs/swagger-config").exchange(), HttpStatus.NOT_FOUND, "not_found");
        admin().get().uri("/admin/v1/tenants").exchange().expectStatus().isOk().expectBody().returnResult();
    }
}
