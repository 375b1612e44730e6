package dev.switchboard.bench;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The few non-load HTTP calls: admin set-up, the log's head, and delivery's metrics. */
final class Api {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final JsonMapper json = JsonMapper.builder().build();
    private final Platform platform;

    Api(Platform platform) {
        this.platform = platform;
    }

    void createTenant(String tenant) {
        // The benchmark measures the log, not the throttle: quotas and topic rates far above what it sends.
        admin("POST", "/admin/v1/tenants", "{\"id\":\"" + tenant + "\",\"name\":\"Benchmark\","
                + "\"quotas\":{\"publishPerSecond\":1000000,\"burst\":10000000}}", 201);
    }

    /** Creates a tenant with the given quotas (a JSON object); its client secret, shown only now. */
    String createTenant(String tenant, String quotas) {
        JsonNode created = admin("POST", "/admin/v1/tenants", "{\"id\":\"" + tenant + "\",\"name\":\"Benchmark\",\"quotas\":" + quotas + "}", 201);
        return created.path("clientSecret").asString();
    }

    /** A new API key of the tenant with the given scopes; the secret itself. */
    String createKey(String tenant, String name, String... scopes) {
        String list = String.join("\",\"", scopes);
        JsonNode key = admin("POST", "/admin/v1/tenants/" + tenant + "/keys", "{\"name\":\"" + name + "\",\"scopes\":[\"" + list + "\"]}", 201);
        return key.path("key").asString();
    }

    void declareTopic(String tenant, String topic) {
        admin("PUT", "/admin/v1/tenants/" + tenant + "/topics/" + topic, "{\"publishRate\":{\"perSecond\":1000000,\"burst\":1000000}}", 201);
    }

    /** The topic's head (its last committed seq, partition 0) as the gateway reports it. */
    long head(String topic, String subscribeKey) {
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(platform.gateway() + "/v1/topics/" + topic + "/events?after=0&limit=1"))
                .header("Authorization", "Bearer " + subscribeKey).GET());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("GET head of " + topic + " answered " + r.statusCode() + ": " + r.body());
        }
        return json.readTree(r.body()).path("head").asLong();
    }

    /** One publish through the gateway, used to check the platform works before measuring. */
    HttpResponse<String> publishBatch(String topic, String key, byte[] body) {
        return send(HttpRequest.newBuilder(URI.create(platform.gateway() + "/v1/topics/" + topic + "/events"))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/cloudevents-batch+json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    /**
     * delivery-service's commit batch size summary and its committed transactions whose seqs were
     * predicted (written before the partition lock): {count, sum, predicted}, if exposed.
     */
    double[] commitBatchSizes() {
        try {
            HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(platform.delivery() + "/actuator/prometheus")).GET());
            if (r.statusCode() != 200) {
                return null;
            }
            double count = Double.NaN;
            double sum = Double.NaN;
            double predicted = 0;
            for (String line : r.body().split("\n")) {
                if (line.startsWith("switchboard_delivery_commit_batch_size_count")) {
                    count = value(line);
                } else if (line.startsWith("switchboard_delivery_commit_batch_size_sum")) {
                    sum = value(line);
                } else if (line.startsWith("switchboard_delivery_commit_attempts_total{")
                        && line.contains("outcome=\"committed\"") && line.contains("way=\"predicted\"")) {
                    predicted += value(line);
                }
            }
            return Double.isNaN(count) || Double.isNaN(sum) ? null : new double[]{count, sum, predicted};
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * A timer of one service's /actuator/prometheus, summed over the series whose labels contain
     * every one of {@code labels}: {count, sum seconds}, or null when it cannot be read.
     */
    double[] timer(String baseUrl, String name, String... labels) {
        try {
            HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(baseUrl + "/actuator/prometheus")).GET());
            if (r.statusCode() != 200) {
                return null;
            }
            double count = 0;
            double sum = 0;
            lines:
            for (String line : r.body().split("\n")) {
                boolean isCount = line.startsWith(name + "_seconds_count{");
                if (!isCount && !line.startsWith(name + "_seconds_sum{")) {
                    continue;
                }
                for (String label : labels) {
                    if (!line.contains(label)) {
                        continue lines;
                    }
                }
                if (isCount) {
                    count += value(line);
                } else {
                    sum += value(line);
                }
            }
            return new double[]{count, sum};
        } catch (RuntimeException e) {
            return null;
        }
    }

    static final String LIVE_STAGES = "switchboard_live_stage_seconds";

    /**
     * The live path's stage histograms ({@code switchboard.live.stage}): the gateway's stages
     * from the gateway, delivery-service's from delivery-service.
     */
    Map<String, TreeMap<Double, Double>> liveStages() {
        Map<String, TreeMap<Double, Double>> stages = new java.util.LinkedHashMap<>();
        buckets(platform.gateway(), LIVE_STAGES, "stage").forEach((stage, b) -> {
            if (stage.startsWith("gateway.")) {
                stages.put(stage, b);
            }
        });
        buckets(platform.delivery(), LIVE_STAGES, "stage").forEach((stage, b) -> {
            if (stage.startsWith("delivery.")) {
                stages.put(stage, b);
            }
        });
        return stages;
    }

    /**
     * The cumulative buckets of one histogram of a service's /actuator/prometheus, per value of
     * {@code label}: label value → (upper bound in seconds → count). Empty when it cannot be read.
     */
    Map<String, TreeMap<Double, Double>> buckets(String baseUrl, String name, String label) {
        Map<String, TreeMap<Double, Double>> buckets = new HashMap<>();
        try {
            HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(baseUrl + "/actuator/prometheus")).GET());
            if (r.statusCode() != 200) {
                return buckets;
            }
            Pattern labelValue = Pattern.compile(label + "=\"([^\"]*)\"");
            Pattern le = Pattern.compile("le=\"([^\"]*)\"");
            for (String line : r.body().split("\n")) {
                if (!line.startsWith(name + "_bucket{")) {
                    continue;
                }
                Matcher key = labelValue.matcher(line);
                Matcher bound = le.matcher(line);
                if (key.find() && bound.find()) {
                    double upper = bound.group(1).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(bound.group(1));
                    buckets.computeIfAbsent(key.group(1), k -> new TreeMap<>()).merge(upper, value(line), Double::sum);
                }
            }
        } catch (RuntimeException e) {
            return buckets;
        }
        return buckets;
    }

    /**
     * A percentile in milliseconds of what was counted between two scrapes of one histogram's
     * cumulative buckets, interpolated linearly inside its bucket; NaN when nothing was counted.
     */
    static double percentileMillis(TreeMap<Double, Double> before, TreeMap<Double, Double> after, double percentile) {
        if (after == null) {
            return Double.NaN;
        }
        double total = after.lastEntry().getValue() - (before == null || before.isEmpty() ? 0 : before.lastEntry().getValue());
        if (total <= 0) {
            return Double.NaN;
        }
        double rank = total * percentile / 100;
        double lower = 0;
        double below = 0;
        for (Map.Entry<Double, Double> bucket : after.entrySet()) {
            double count = bucket.getValue() - (before == null ? 0 : before.getOrDefault(bucket.getKey(), 0.0));
            if (count >= rank) {
                if (bucket.getKey().isInfinite()) {
                    return 1000 * lower;
                }
                double share = count == below ? 1 : (rank - below) / (count - below);
                return 1000 * (lower + share * (bucket.getKey() - lower));
            }
            lower = bucket.getKey();
            below = count;
        }
        return 1000 * lower;
    }

    private static double value(String line) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
    }

    private JsonNode admin(String method, String path, String body, int expected) {
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(platform.registry() + path))
                .header("Authorization", "Bearer " + platform.adminToken)
                .header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(body)));
        if (r.statusCode() != expected) {
            throw new IllegalStateException(method + " " + path + " answered " + r.statusCode() + " (expected " + expected + "): " + r.body());
        }
        return json.readTree(r.body());
    }

    private HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return http.send(request.timeout(TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException(request.build().uri() + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
