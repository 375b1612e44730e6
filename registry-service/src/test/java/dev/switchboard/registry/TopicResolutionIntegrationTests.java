package dev.switchboard.registry;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Which declaration governs a concrete topic: exact beats patterns; more literal, then fewer '>', wins. */
class TopicResolutionIntegrationTests extends RegistryIntegrationTest {

    private String t;

    @BeforeEach
    void tenant() {
        t = newTenantId();
        createTenant(t);
    }

    private void declare(String name, int maxAttempts) {
        admin().put().uri("/admin/v1/tenants/{t}/topics/{n}", t, name).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("maxAttempts", maxAttempts)).exchange().expectStatus().isCreated().expectBody(Void.class);
    }

    private void resolvesTo(String topic, String declaredBy, int maxAttempts) {
        service().get().uri("/internal/v1/tenants/{t}/topics/resolve?name={n}", t, topic).exchange()
                .expectStatus().isOk()
                .expectBody()
                .jsonPath("$.tenant").isEqualTo(t)
                .jsonPath("$.topic").isEqualTo(topic)
                .jsonPath("$.declaredBy").isEqualTo(declaredBy)
                .jsonPath("$.settings.maxAttempts").isEqualTo(maxAttempts);
        admin().get().uri("/admin/v1/tenants/{t}/topics/{n}", t, topic).exchange()
                .expectStatus().isOk()
                .expectBody()
                .jsonPath("$.name").isEqualTo(topic)
                .jsonPath("$.maxAttempts").isEqualTo(maxAttempts);
    }

    @Test
    void mostSpecificDeclarationWins() {
        declare(">", 1);
        declare("chat.>", 2);
        declare("chat.*", 3);
        declare("chat.*.typing", 4);
        declare("chat.lobby", 5);
        declare("*.lobby", 6);

        resolvesTo("chat.lobby", "chat.lobby", 5);          // exact beats every pattern
        resolvesTo("chat.room-1", "chat.*", 3);             // '*' beats '>' at equal literals
        resolvesTo("chat.room-1.typing", "chat.*.typing", 4); // more literal segments win
        resolvesTo("chat.room-1.edits", "chat.>", 2);       // only '>' reaches three segments
        resolvesTo("orders", ">", 1);                        // the catch-all
        resolvesTo("ai.answers.x.y", ">", 1);
        resolvesTo("news.lobby", "*.lobby", 6);

        // the exact declaration has no declaredBy in the admin view, the effective one has
        admin().get().uri("/admin/v1/tenants/{t}/topics/{n}", t, "chat.lobby").exchange()
                .expectBody().jsonPath("$.declaredBy").doesNotExist().jsonPath("$.pattern").isEqualTo(false);
        admin().get().uri("/admin/v1/tenants/{t}/topics/{n}", t, "chat.room-1").exchange()
                .expectBody().jsonPath("$.declaredBy").isEqualTo("chat.*");

        // removing the winner hands the topic to the next one
        admin().delete().uri("/admin/v1/tenants/{t}/topics/{n}", t, "chat.*").exchange().expectStatus().isNoContent().expectBody(Void.class);
        resolvesTo("chat.room-1", "chat.>", 2);
    }

    @Test
    void nothingMatchingIsTopicNotFound() {
        declare("chat.*", 3);
        assertProblem(service().get().uri("/internal/v1/tenants/{t}/topics/resolve?name={n}", t, "chat").exchange(),
                HttpStatus.NOT_FOUND, "topic_not_found");
        assertProblem(service().get().uri("/internal/v1/tenants/{t}/topics/resolve?name={n}", t, "chat.a.b").exchange(),
                HttpStatus.NOT_FOUND, "topic_not_found");
        assertProblem(service().get().uri("/internal/v1/tenants/{t}/topics/resolve?name={n}", t, "orders").exchange(),
                HttpStatus.NOT_FOUND, "topic_not_found");
        // another tenant's patterns never apply
        String other = newTenantId();
        createTenant(other);
        assertProblem(service().get().uri("/internal/v1/tenants/{t}/topics/resolve?name={n}", other, "chat.x").exchange(),
                HttpStatus.NOT_FOUND, "topic_not_found");
    }

    @Test
    void internalResolutionRefusesPatternsAndInvalidNames() {
        declare("chat.*", 3);
        for (String name : new String[] {"chat.*", "chat.>", "Chat.x", "chat..x", ""}) {
            assertProblem(service().get().uri("/internal/v1/tenants/{t}/topics/resolve?name={n}", t, name).exchange(),
                    HttpStatus.BAD_REQUEST, "invalid_request");
        }
        assertProblem(service().get().uri("/internal/v1/tenants/{t}/topics/resolve", t).exchange(),
                HttpStatus.BAD_REQUEST, "invalid_request");
    }

    @Test
    void resolvedSettingsCarryIsoDurations() {
        admin().put().uri("/admin/v1/tenants/{t}/topics/{n}", t, "ai.>").contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"retention\":\"P2D\",\"dedupWindow\":\"PT10M\",\"defaultTtl\":\"PT45S\",\"lagPolicy\":\"none\"}")
                .exchange().expectStatus().isCreated().expectBody(Void.class);
        service().get().uri("/internal/v1/tenants/{t}/topics/resolve?name={n}", t, "ai.answers").exchange()
                .expectStatus().isOk()
                .expectBody()
                .jsonPath("$.declaredBy").isEqualTo("ai.>")
                .jsonPath("$.settings.retention").isEqualTo("PT48H")
                .jsonPath("$.settings.dedupWindow").isEqualTo("PT10M")
                .jsonPath("$.settings.defaultTtl").isEqualTo("PT45S")
                .jsonPath("$.settings.lagPolicy").isEqualTo("none")
                .jsonPath("$.settings.partitions").isEqualTo(1)
                .jsonPath("$.settings.schemaVersions.max").isEqualTo(1)
                .jsonPath("$.settings.publishRate.perSecond").isEqualTo(1000);
    }

    @Test
    void tailPatternWorksUrlEncodedAndRaw() throws IOException {
        // URL-encoded: WebTestClient sends ai.%3E
        admin().put().uri("/admin/v1/tenants/{t}/topics/{n}", t, "ai.>").contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"maxAttempts\":7}").exchange()
                .expectStatus().isCreated()
                .expectBody().jsonPath("$.name").isEqualTo("ai.>").jsonPath("$.pattern").isEqualTo(true);

        // raw '>' in the path, as curl sends it
        String replaced = raw("PUT", "/admin/v1/tenants/" + t + "/topics/ai.>", "{\"maxAttempts\":8}");
        assertThat(replaced).startsWith("HTTP/1.1 200").contains("\"name\":\"ai.>\"").contains("\"maxAttempts\":8");
        assertThat(raw("GET", "/admin/v1/tenants/" + t + "/topics/ai.>", null))
                .startsWith("HTTP/1.1 200").contains("\"maxAttempts\":8");
        assertThat(raw("PUT", "/admin/v1/tenants/" + t + "/topics/>", "{}")).startsWith("HTTP/1.1 201");
        assertThat(raw("DELETE", "/admin/v1/tenants/" + t + "/topics/>", null)).startsWith("HTTP/1.1 204");
        admin().get().uri("/admin/v1/tenants/{t}/topics/{n}", t, "ai.x.y").exchange()
                .expectStatus().isOk().expectBody().jsonPath("$.declaredBy").isEqualTo("ai.>");
    }

    /** One HTTP/1.1 exchange over a plain socket, so the path goes out exactly as written. */
    private String raw(String method, String path, String body) throws IOException {
        try (Socket socket = new Socket("localhost", port)) {
            socket.setSoTimeout(10_000);
            byte[] content = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
            String head = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + ADMIN_TOKEN
                    + "\r\nConnection: close\r\n"
                    + (body == null ? "" : "Content-Type: application/json\r\nContent-Length: " + content.length + "\r\n")
                    + "\r\n";
            OutputStream out = socket.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.write(content);
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream response = new ByteArrayOutputStream();
            in.transferTo(response);
            return response.toString(StandardCharsets.UTF_8);
        }
    }
}
