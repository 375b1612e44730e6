package dev.switchboard.standalone;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * In development mode ({@code SWITCHBOARD_DEV=true}) the demo page at the gateway's {@code /}
 * should work at once: this creates its tenant {@value #TENANT} and the topic pattern
 * {@value #PATTERN} through the registry's admin API, each only if absent (so settings changed by
 * hand stay as they are). Runs once on the launcher's thread after every service is up.
 */
final class DemoTenant {

    static final String TENANT = "demo";
    static final String PATTERN = "demo.>";

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    /**
     * The demo page's "Ask" panel: a question on {@code demo.ask} (one echo model) or
     * {@code demo.ask-panel} (two echo models, then a vote) starts a run whose answer streams on
     * {@code demo.answers}. Saved through workflow-service's internal API when missing.
     */
    static final Map<String, String> PIPELINES = Map.of(
            "demo-ask", """
                    {"trigger":{"topic":"demo.ask","types":["demo.question"]},"output":"demo.answers",
                     "steps":[{"id":"ask","type":"prompt","template":"You asked: {{data.text}} Here is the echo of it, a word at a time."},
                              {"id":"draft","type":"model","input":"ask","provider":"echo","model":"echo-1"}]}""",
            "demo-panel", """
                    {"trigger":{"topic":"demo.ask-panel","types":["demo.question"]},"output":"demo.answers",
                     "steps":[{"id":"ask","type":"prompt","template":"Two models hear: {{data.text}}"},
                              {"id":"both","type":"fanout","input":"ask","steps":["first","second"]},
                              {"id":"first","type":"model","provider":"echo","model":"echo-1"},
                              {"id":"second","type":"model","provider":"echo","model":"echo-1"},
                              {"id":"pick","type":"aggregate","inputs":["first","second"],"strategy":"vote"}]}""");

    private final String registryUrl;
    private final String adminToken;
    private final String workflowUrl;
    private final String serviceToken;

    DemoTenant(String registryUrl, String adminToken, String workflowUrl, String serviceToken) {
        this.registryUrl = registryUrl;
        this.adminToken = adminToken;
        this.workflowUrl = workflowUrl;
        this.serviceToken = serviceToken;
    }

    /** What was done, for the start-up summary. */
    String ensure() {
        try {
            boolean tenantCreated = false;
            if (!exists("/admin/v1/tenants/" + TENANT)) {
                int created = status(send("POST", "/admin/v1/tenants", "{\"id\":\"" + TENANT + "\",\"name\":\"Demo\"}"));
                if (created == 409) {
                    return "tenant '" + TENANT + "' was deleted once and its id is retired: use another tenant on the demo page";
                }
                expect(created, 201, "creating the tenant");
                tenantCreated = true;
            }
            String topic = "/admin/v1/tenants/" + TENANT + "/topics/demo.%3E";
            boolean patternCreated = false;
            if (!exists(topic)) {
                expect(status(send("PUT", topic, "{}")), 201, "declaring " + PATTERN);
                patternCreated = true;
            }
            String pipelines = workflowUrl == null ? "" : pipelines();
            return (tenantCreated || patternCreated
                    ? "tenant '" + TENANT + "' with topics " + PATTERN + " created for the demo page"
                    : "tenant '" + TENANT + "' with topics " + PATTERN + " (already there)") + pipelines;
        } catch (IOException e) {
            return "could not prepare the demo tenant: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "could not prepare the demo tenant: interrupted";
        }
    }

    /** Saves the demo pipelines that are missing; says which. */
    private String pipelines() throws IOException, InterruptedException {
        List<String> saved = new ArrayList<>();
        for (Map.Entry<String, String> p : new TreeMap<>(PIPELINES).entrySet()) {
            String path = "/internal/v1/tenants/" + TENANT + "/pipelines/" + p.getKey();
            HttpRequest.Builder get = HttpRequest.newBuilder(URI.create(workflowUrl + path)).timeout(TIMEOUT)
                    .header("Authorization", "Bearer " + serviceToken);
            int status = http.send(get.GET().build(), HttpResponse.BodyHandlers.discarding()).statusCode();
            if (status == 404) {
                int put = http.send(get.header("Content-Type", "application/json")
                        .PUT(HttpRequest.BodyPublishers.ofString(p.getValue())).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
                expect(put, 201, "saving the demo pipeline " + p.getKey());
                saved.add(p.getKey());
            } else if (status != 200) {
                throw new IOException("GET " + path + " answered " + status);
            }
        }
        return saved.isEmpty() ? ", pipelines demo-ask and demo-panel" : ", pipelines " + String.join(" and ", saved) + " saved";
    }

    private boolean exists(String path) throws IOException, InterruptedException {
        int status = http.send(request(path).GET().build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        if (status != 200 && status != 404) {
            throw new IOException("GET " + path + " answered " + status);
        }
        return status == 200;
    }

    private HttpResponse<String> send(String method, String path, String json) throws IOException, InterruptedException {
        return http.send(request(path).header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(registryUrl + path)).timeout(TIMEOUT)
                .header("Authorization", "Bearer " + adminToken);
    }

    private static int status(HttpResponse<String> response) {
        return response.statusCode();
    }

    private static void expect(int status, int expected, String what) throws IOException {
        if (status != expected) {
            throw new IOException(what + " answered " + status);
        }
    }
}
