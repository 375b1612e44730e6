package dev.switchboard.standalone;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The launcher tests' HTTP calls to a service on 127.0.0.1, as a user's curl would make them. */
final class LoopbackHttp {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private LoopbackHttp() {
    }

    /** {@code method path} with a bearer token and, if given, a JSON body; 30 s at most. */
    static HttpResponse<String> send(HttpClient http, String method, int port, String path, String bearer, String json)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + bearer)
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) {
            request.header("Content-Type", "application/json");
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Every event of {@code topic} (one partition) through the gateway's REST edge, page by page, in seq order. */
    static List<JsonNode> readTopic(HttpClient http, int gateway, String key, String topic) throws IOException, InterruptedException {
        List<JsonNode> events = new ArrayList<>();
        long after = 0;
        while (true) {
            HttpResponse<String> page = send(http, "GET", gateway, "/v1/topics/" + topic + "/events?after=" + after + "&limit=1000", key, null);
            if (page.statusCode() != 200) {
                throw new IllegalStateException("reading " + topic + ": " + page.statusCode() + " " + page.body());
            }
            JsonNode body = JSON.readTree(page.body());
            body.path("events").forEach(events::add);
            if (body.path("events").isEmpty() || events.size() >= body.path("head").asLong()) {
                return events;
            }
            after = events.get(events.size() - 1).path("seq").asLong();
        }
    }
}
