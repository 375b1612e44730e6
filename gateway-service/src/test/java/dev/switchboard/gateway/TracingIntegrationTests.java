package dev.switchboard.gateway;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * With {@code SWITCHBOARD_OTLP_ENDPOINT} set, one publish is one trace across the services: the
 * gateway's span for the client's request, delivery's span for the gateway's call (the W3C
 * {@code traceparent} carried over real HTTP between them), and the stored event's own
 * {@code traceparent}, which names the same trace for every later read and delivery of it, and the
 * gateway's span for handing it to the sockets. The
 * spans are read from what the services really export over OTLP/HTTP, by a fake collector.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class TracingIntegrationTests {

    record Exported(String service, String traceId, String name, Span.SpanKind kind, String spanId, String parentSpanId) {
    }

    static final List<Exported> spans = new CopyOnWriteArrayList<>();
    static HttpServer collector;
    static HttpServer model;
    static final String QUICKLY = "--management.opentelemetry.tracing.export.schedule-delay=100ms";
    static TestPlatform platform;
    static String clientSecret;
    static String endpoint;

    @BeforeAll
    static void start() throws Exception {
        collector = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        collector.createContext("/v1/traces", exchange -> {
            ExportTraceServiceRequest request = ExportTraceServiceRequest.parseFrom(exchange.getRequestBody().readAllBytes());
            for (ResourceSpans resource : request.getResourceSpansList()) {
                String service = resource.getResource().getAttributesList().stream()
                        .filter(a -> a.getKey().equals("service.name")).map(KeyValue::getValue).map(v -> v.getStringValue())
                        .findFirst().orElse("?");
                for (ScopeSpans scope : resource.getScopeSpansList()) {
                    for (Span span : scope.getSpansList()) {
                        spans.add(new Exported(service, HexFormat.of().formatHex(span.getTraceId().toByteArray()), span.getName(),
                                span.getKind(), HexFormat.of().formatHex(span.getSpanId().toByteArray()),
                                HexFormat.of().formatHex(span.getParentSpanId().toByteArray())));
                    }
                }
            }
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        collector.start();
        // An OpenAI-compatible model that really streams chat completion chunks over SSE.
        model = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        model.createContext("/v1/chat/completions", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.getResponseHeaders().add("Content-Type", "text/event-stream");
            exchange.sendResponseHeaders(200, 0);
            try (var body = exchange.getResponseBody()) {
                for (String token : List.of("modelled", " answer", "")) {
                    String delta = token.isEmpty() ? "{}" : "{\"content\":\"" + token + "\"}";
                    String finish = token.isEmpty() ? "\"stop\"" : "null";
                    body.write(("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
                            + "\"model\":\"fake-1\",\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"finish_reason\":" + finish
                            + "}]}\n\n").getBytes(StandardCharsets.UTF_8));
                    body.flush();
                }
                body.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
            }
        });
        model.start();
        endpoint = "--switchboard.tracing.otlp-endpoint=http://127.0.0.1:" + collector.getAddress().getPort() + "/v1/traces";
        String provider = "--switchboard.workflow.providers.fake.base-url=http://127.0.0.1:" + model.getAddress().getPort() + "/v1";
        platform = TestPlatform.start(1, List.of(endpoint, QUICKLY), List.of(endpoint, QUICKLY, provider), endpoint, QUICKLY);
        clientSecret = platform.createTenant("traced");
        platform.declareTopic("traced", "orders", Map.of());
        platform.declareTopic("traced", "questions", Map.of());
        platform.declareTopic("traced", "answers", Map.of());
        platform.declareTopic("traced", "modelled", Map.of());
    }

    @AfterAll
    static void stop() {
        if (platform != null) {
            platform.close();
        }
        if (collector != null) {
            collector.stop(0);
        }
        if (model != null) {
            model.stop(0);
        }
    }

    @Test
    void onePublishIsOneTraceFromTheGatewayThroughDeliveryIntoTheStoredEvent() {
        TestPlatform.Key key = platform.createKey("traced", "publish", "subscribe");
        platform.gatewayClient(0).post().uri("/v1/topics/orders/events").header("Authorization", key.bearer())
                .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"id\":\"o-1\",\"type\":\"order.created\",\"data\":{}}")
                .exchange().expectStatus().isCreated().expectBody().returnResult();
        JsonNode read = platform.gatewayClient(0).get().uri("/v1/topics/orders/events?after=0").header("Authorization", key.bearer())
                .exchange().expectStatus().isOk().expectBody(JsonNode.class).returnResult().getResponseBody();
        String traceparent = read.path("events").get(0).path("traceparent").asString();
        assertThat(traceparent).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01");
        String traceId = traceparent.substring(3, 35);

        await("the publish's spans exported").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                .until(() -> spans.stream().anyMatch(s -> s.traceId().equals(traceId) && s.service().equals("delivery-service")
                        && s.kind() == Span.SpanKind.SPAN_KIND_SERVER));
        List<Exported> trace = spans.stream().filter(s -> s.traceId().equals(traceId)).toList();
        assertThat(trace).as("the trace of the stored event: %s", spans)
                .anySatisfy(s -> {
                    assertThat(s.service()).isEqualTo("gateway-service");
                    assertThat(s.kind()).isEqualTo(Span.SpanKind.SPAN_KIND_SERVER);
                })
                .anySatisfy(s -> {
                    assertThat(s.service()).isEqualTo("gateway-service");
                    assertThat(s.kind()).isEqualTo(Span.SpanKind.SPAN_KIND_CLIENT);
                })
                .anySatisfy(s -> {
                    assertThat(s.service()).isEqualTo("delivery-service");
                    assertThat(s.kind()).isEqualTo(Span.SpanKind.SPAN_KIND_SERVER);
                });
        // The read is a trace of its own: tracing follows requests, the event keeps the publish's.
        assertThat(spans.stream().filter(s -> s.service().equals("gateway-service") && s.kind() == Span.SpanKind.SPAN_KIND_SERVER)
                .map(Exported::traceId).distinct().count()).isGreaterThanOrEqualTo(2);
    }

    /**
     * A model step's call to an OpenAI-compatible model is a span of the run's trace, inside the model
     * step's span: Spring AI's {@code chat <model>} observation (kind internal: Spring AI does not mark
     * it as a client call, and the OpenAI SDK's own HTTP client is not instrumented).
     */
    @Test
    void aModelCallIsAClientSpanOfTheRunsTrace() {
        TestPlatform.Key key = platform.createKey("traced", "admin", "publish", "subscribe");
        platform.gatewayClient(0).put().uri("/v1/pipelines/modelled").header("Authorization", key.bearer())
                .contentType(MediaType.parseMediaType("application/yaml")).bodyValue("""
                        output: modelled
                        steps:
                          - {id: ask, type: prompt, template: "{{data.q}}"}
                          - {id: say, type: model, input: ask, provider: fake, model: fake-1}
                        """).exchange().expectStatus().isCreated().expectBody().returnResult();
        String traceId = "5bf92f3577b34da6a3ce929d0e0e4737";
        String run = platform.gatewayClient(0).post().uri("/v1/pipelines/modelled/runs").header("Authorization", key.bearer())
                .header("traceparent", "00-" + traceId + "-00f067aa0ba902b8-01")
                .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"data\":{\"q\":\"ask the model\"}}")
                .exchange().expectStatus().isCreated().expectBody(JsonNode.class).returnResult().getResponseBody().path("run").asString();
        await("the model's answer").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> platform.gatewayClient(0).get().uri("/v1/runs/" + run).header("Authorization", key.bearer())
                        .exchange().expectBody(JsonNode.class).returnResult().getResponseBody().path("answer").asString()
                        .equals("modelled answer"));
        await("the model call's span and its step's").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                .until(() -> spans.stream().filter(s -> s.traceId().equals(traceId) && s.service().equals("workflow-service")
                        && (s.name().equals("chat fake-1") || s.name().equals("model step"))).count() >= 2);
        List<Exported> workflow = spans.stream().filter(s -> s.traceId().equals(traceId) && s.service().equals("workflow-service")).toList();
        Exported step = workflow.stream().filter(s -> s.name().equals("model step")).findFirst().orElseThrow();
        assertThat(workflow).as("%s", workflow).filteredOn(s -> s.name().equals("chat fake-1")).singleElement()
                .satisfies(call -> assertThat(call.parentSpanId()).isEqualTo(step.spanId()));
    }

    /** A log line as it was written: its text and the MDC of the thread that wrote it. */
    record Logged(String message, Map<String, String> mdc) {
    }

    /**
     * A WARN written while serving a traced request carries that request's trace: a gateway whose
     * delivery-service cannot be reached logs the failed call inside the request's server span, and
     * Boot's JSON (ECS) lines take {@code trace.id} and {@code span.id} from the MDC keys read here.
     */
    @Test
    void aLogLineWrittenWhileServingATracedRequestCarriesItsTraceAndSpanIds() throws Exception {
        int closed;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = socket.getLocalPort();
        }
        ConfigurableApplicationContext cut = platform.startGateway(endpoint, QUICKLY,
                "--switchboard.gateway.delivery-url=http://127.0.0.1:" + closed);
        List<Logged> logged = new CopyOnWriteArrayList<>();
        Logger logger = (Logger) LoggerFactory.getLogger("dev.switchboard.gateway.rest.UpstreamHttp");
        AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent event) {
                // Read on the writing thread: the MDC as it was when the line was written.
                logged.add(new Logged(event.getFormattedMessage(), Map.copyOf(event.getMDCPropertyMap())));
            }
        };
        appender.start();
        logger.addAppender(appender);
        try {
            TestPlatform.Key key = platform.createKey("traced", "publish");
            String traceId = "0af7651916cd43dd8448eb211c80319c";
            String callerSpan = "b7ad6b7169203331";
            WebTestClient.bindToServer().baseUrl(TestPlatform.url(cut)).build()
                    .post().uri("/v1/topics/orders/events").header("Authorization", key.bearer())
                    .header("traceparent", "00-" + traceId + "-" + callerSpan + "-01")
                    .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"type\":\"order.created\",\"data\":{}}")
                    .exchange().expectStatus().isEqualTo(503).expectBody().returnResult();
            await("the failed call's WARN").atMost(Duration.ofSeconds(10))
                    .until(() -> logged.stream().anyMatch(l -> l.message().contains("call failed")));
            Logged warn = logged.stream().filter(l -> l.message().contains("call failed")).findFirst().orElseThrow();
            assertThat(warn.mdc()).as("%s", warn).containsEntry("traceId", traceId);
            // The gateway's own span of that trace (its server span or the client call inside it), not the caller's.
            assertThat(warn.mdc().get("spanId")).matches("[0-9a-f]{16}").isNotEqualTo(callerSpan);
            await("the gateway's spans of that trace").atMost(Duration.ofSeconds(20))
                    .until(() -> spans.stream().anyMatch(s -> s.traceId().equals(traceId) && s.service().equals("gateway-service")));
        } finally {
            logger.detachAppender(appender);
            cut.close();
        }
    }

    @Test
    void anEventsDeliveryToSocketsIsASpanOfItsPublishsTrace() {
        TestPlatform.Key key = platform.createKey("traced", "publish", "subscribe");
        String token = WsClient.jwt(clientSecret, "traced", List.of("orders"));
        try (WsClient first = WsClient.open(platform.gatewayUrl(0)).connect(token);
             WsClient second = WsClient.open(platform.gatewayUrl(0)).connect(token)) {
            first.subscribe("orders", null);
            second.subscribe("orders", null);
            platform.gatewayClient(0).post().uri("/v1/topics/orders/events").header("Authorization", key.bearer())
                    .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"id\":\"o-ws\",\"type\":\"order.created\",\"data\":{}}")
                    .exchange().expectStatus().isCreated().expectBody().returnResult();
            JsonNode event = first.nextOp("event").path("event");
            assertThat(event.path("id").asString()).isEqualTo("o-ws");
            assertThat(second.nextOp("event").path("event").path("id").asString()).isEqualTo("o-ws");
            String traceId = event.path("traceparent").asString().substring(3, 35);
            await("the socket delivery's span").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                    .until(() -> spans.stream().anyMatch(s -> s.traceId().equals(traceId) && s.name().equals("deliver to sockets")));
            assertThat(spans.stream().filter(s -> s.traceId().equals(traceId) && s.name().equals("deliver to sockets")).toList())
                    .as("one span for both sockets, in the publish's trace: %s", spans)
                    .singleElement()
                    .satisfies(s -> {
                        assertThat(s.service()).isEqualTo("gateway-service");
                        assertThat(s.kind()).isEqualTo(Span.SpanKind.SPAN_KIND_CONSUMER);
                    });
            assertThat(spans).as("the publish's own spans in the same trace")
                    .anyMatch(s -> s.traceId().equals(traceId) && s.service().equals("delivery-service"));
        }
    }

    @Test
    void aTriggerEventsTraceGoesOnThroughTheWorkflowStepIntoTheTokensItStreams() throws Exception {
        TestPlatform.Key key = platform.createKey("traced", "admin", "publish", "subscribe");
        platform.gatewayClient(0).put().uri("/v1/pipelines/traced").header("Authorization", key.bearer())
                .contentType(MediaType.parseMediaType("application/yaml")).bodyValue("""
                        trigger: {topic: questions}
                        output: answers
                        steps:
                          - {id: ask, type: prompt, template: "{{data.q}}"}
                          - {id: say, type: model, input: ask, provider: echo, model: echo-1}
                        """).exchange().expectStatus().isCreated().expectBody().returnResult();
        WebTestClient delivery = WebTestClient
                .bindToServer().baseUrl(platform.deliveryUrl()).defaultHeader("Authorization", "Bearer " + TestPlatform.SERVICE_TOKEN).build();
        await("the trigger's group").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                .until(() -> delivery.get().uri("/internal/v1/tenants/traced/topics/questions/groups/wf-traced")
                        .exchange().returnResult(Void.class).getStatus().value() == 200);
        platform.gatewayClient(0).post().uri("/v1/topics/questions/events").header("Authorization", key.bearer())
                .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"id\":\"q-1\",\"type\":\"q\",\"data\":{\"q\":\"traced all the way\"}}")
                .exchange().expectStatus().isCreated().expectBody().returnResult();
        String question = platform.gatewayClient(0).get().uri("/v1/topics/questions/events?after=0").header("Authorization", key.bearer())
                .exchange().expectBody(JsonNode.class).returnResult().getResponseBody().path("events").get(0).path("traceparent").asString();
        String traceId = question.substring(3, 35);

        List<JsonNode> answers = new java.util.ArrayList<>();
        await("the answer").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> {
            answers.clear();
            platform.gatewayClient(0).get().uri("/v1/topics/answers/events?after=0").header("Authorization", key.bearer())
                    .exchange().expectBody(JsonNode.class).returnResult().getResponseBody().path("events").forEach(answers::add);
            return answers.stream().anyMatch(e -> e.path("type").asString().equals("ai.completed"));
        });
        // Every event the run published carries the question's trace.
        assertThat(answers).isNotEmpty().allSatisfy(e -> assertThat(e.path("traceparent").asString())
                .as("%s", e).startsWith("00-" + traceId + "-"));
        // And workflow-service exported the step attempts as spans of that trace, beside the publishes' spans.
        await("the workflow's spans").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                .until(() -> spans.stream().filter(s -> s.traceId().equals(traceId) && s.service().equals("workflow-service")).count() >= 2);
        assertThat(spans.stream().filter(s -> s.traceId().equals(traceId) && s.service().equals("workflow-service")).map(Exported::name))
                .as("%s", spans).contains("prompt step", "model step");
        assertThat(spans.stream().filter(s -> s.traceId().equals(traceId) && s.service().equals("delivery-service")
                && s.kind() == Span.SpanKind.SPAN_KIND_SERVER).count()).as("delivery stored the tokens in the same trace").isGreaterThanOrEqualTo(2);

        // A run started over REST continues the caller's own trace (its traceparent header).
        String callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
        String run = platform.gatewayClient(0).post().uri("/v1/pipelines/traced/runs").header("Authorization", key.bearer())
                .header("traceparent", "00-" + callerTrace + "-00f067aa0ba902b7-01")
                .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"data\":{\"q\":\"from rest\"},\"output\":\"answers\"}")
                .exchange().expectStatus().isCreated().expectBody(JsonNode.class).returnResult().getResponseBody().path("run").asString();
        await("the REST run's answer").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> {
            answers.clear();
            platform.gatewayClient(0).get().uri("/v1/topics/answers/events?after=0&limit=1000").header("Authorization", key.bearer())
                    .exchange().expectBody(JsonNode.class).returnResult().getResponseBody().path("events").forEach(answers::add);
            return answers.stream().anyMatch(e -> e.path("type").asString().equals("ai.completed") && e.path("correlationid").asString().equals(run));
        });
        assertThat(answers.stream().filter(e -> e.path("correlationid").asString().equals(run)))
                .isNotEmpty().allSatisfy(e -> assertThat(e.path("traceparent").asString()).startsWith("00-" + callerTrace + "-"));
    }
}
