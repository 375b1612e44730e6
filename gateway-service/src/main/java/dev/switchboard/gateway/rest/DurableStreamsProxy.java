package dev.switchboard.gateway.rest;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.errors.Headers;
import dev.switchboard.gateway.admission.AdmissionProperties;
import dev.switchboard.gateway.auth.Caller;
import dev.switchboard.gateway.auth.CredentialWatch;
import dev.switchboard.gateway.config.GatewayProperties;
import dev.switchboard.platform.problem.SwitchboardException;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.http.client.ReactorResourceFactory;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.reactive.function.BodyInserters;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.util.LinkedMultiValueMap;
import org.springframework.web.util.UriComponentsBuilder;
import org.springframework.web.util.UriUtils;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Durable Streams ({@code /v1/stream/{path}}, github.com/durable-streams): the gateway authenticates
 * and authorises, delivery-service speaks the protocol on its log. Requests are forwarded with the
 * protocol's headers and their bodies as they arrive; answers come back as they are produced —
 * status, the protocol's headers, and the body chunk by chunk, flushed as it comes, so long-polls
 * and SSE streams pass straight through. A stream opened with a credential that is revoked ends
 * within about a second, as the topic SSE stream does; one opened with a client JWT ends when the
 * token expires.
 *
 * <p>Who may do what: reads ({@code GET}, {@code HEAD}) need scope {@code subscribe}, changes
 * ({@code PUT}, {@code POST}, {@code DELETE}) scope {@code publish}. A client JWT's patterns are
 * matched against the path with {@code /} read as the segment separator: {@code subscribe:
 * ["chat.*"]} reads {@code /v1/stream/chat/room-1}.
 */
@RestController
class DurableStreamsProxy {

    static final String PREFIX = "/v1/stream/";
    /** Paths under this are workflow runs' output, read-only ({@link #runView}); no stream can be made there. */
    static final String RUNS = "_runs/";
    /** Request headers the protocol defines (and the trace context); nothing else is forwarded. */
    private static final Set<String> REQUEST_HEADERS = Set.of("content-type", "if-none-match", "stream-ttl", "stream-expires-at",
            "stream-seq", "stream-closed", "stream-forked-from", "stream-fork-offset", "stream-fork-sub-offset",
            "producer-id", "producer-epoch", "producer-seq", Headers.TRACEPARENT);
    /** Answer headers that are the upstream connection's own, not the protocol's. */
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "transfer-encoding", "content-length",
            "vary", "date", "server");

    private final WebClient web;
    private final GatewayProperties properties;
    private final CredentialWatch watch;
    private final WorkflowClient workflow;
    private final JsonMapper json;
    private final AdmissionProperties admission;
    private final Map<String, AtomicInteger> liveReads = new ConcurrentHashMap<>();

    DurableStreamsProxy(WebClient.Builder builder, GatewayProperties properties, CredentialWatch watch, WorkflowClient workflow,
                        JsonMapper json, AdmissionProperties admission, ObjectProvider<ReactorResourceFactory> resources) {
        this.admission = admission;
        this.workflow = workflow;
        this.json = json;
        this.web = UpstreamHttp.client(builder, "durable-streams", 2000, properties.deliveryUrl(), properties.serviceToken(),
                properties.connectTimeout(), resources.getIfAvailable());
        this.properties = properties;
        this.watch = watch;
    }

    @RequestMapping("/v1/stream/{*path}")
    Mono<Void> forward(@PathVariable String path, @AuthenticationPrincipal Caller caller, ServerHttpRequest request,
                       ServerHttpResponse response) {
        return Mono.defer(() -> {
            HttpMethod method = request.getMethod();
            String name = streamName(request);
            boolean read = method == HttpMethod.GET || method == HttpMethod.HEAD;
            boolean write = method == HttpMethod.PUT || method == HttpMethod.POST || method == HttpMethod.DELETE;
            if (!read && !write) {
                SwitchboardException e = new SwitchboardException(ErrorCode.METHOD_NOT_ALLOWED, "A stream takes GET, HEAD, PUT, POST and DELETE.");
                e.getHeaders().set(HttpHeaders.ALLOW, "GET, HEAD, PUT, POST, DELETE");
                throw e;
            }
            if (name.startsWith(RUNS)) {
                return runView(name.substring(RUNS.length()), write, caller, request, response);
            }
            String topicForm = name.replace('/', '.');
            if (read && !caller.maySubscribe(topicForm)) {
                throw new SwitchboardException(ErrorCode.FORBIDDEN, "This credential may not read this stream (scope subscribe).");
            }
            if (write && !caller.mayPublish(topicForm)) {
                throw new SwitchboardException(ErrorCode.FORBIDDEN, "This credential may not write this stream (scope publish).");
            }
            // The path and query as the client encoded them (the path checked above in its decoded form).
            String query = request.getURI().getRawQuery();
            return relay(URI.create(properties.deliveryUrl() + "/internal/v1/tenants/" + caller.tenant() + "/streams/" + rawName(request)
                    + (query == null ? "" : "?" + query)), caller, request, response);
        });
    }

    /**
     * A workflow run's output as a read-only JSON stream: the run's {@code ai.*} events on its output
     * topic, closed after its last one. Reading it needs what reading that topic needs (scope
     * subscribe, or a client JWT whose patterns match the topic).
     */
    private Mono<Void> runView(String run, boolean write, Caller caller, ServerHttpRequest request, ServerHttpResponse response) {
        if (write) {
            SwitchboardException e = new SwitchboardException(ErrorCode.METHOD_NOT_ALLOWED, "A run's output is read-only: GET or HEAD.");
            e.getHeaders().set(HttpHeaders.ALLOW, "GET, HEAD");
            throw e;
        }
        if (run.isEmpty() || run.contains("/")) {
            throw SwitchboardException.notFound("No such run.");
        }
        return workflow.forward(HttpMethod.GET, caller.tenant(), "/runs/{run}", new Object[]{run}, new LinkedMultiValueMap<>(), null, null)
                .flatMap(answer -> {
                    if (answer.getStatusCode().value() == 404) {
                        return Mono.error(SwitchboardException.notFound("No such run."));
                    }
                    if (!answer.getStatusCode().is2xxSuccessful() || answer.getBody() == null) {
                        return Mono.error(new SwitchboardException(ErrorCode.UNAVAILABLE, "The workflow service is unavailable; retry shortly."));
                    }
                    String topic = json.readTree(answer.getBody()).path("output").asString("");
                    if (!caller.maySubscribe(topic)) {
                        return Mono.error(new SwitchboardException(ErrorCode.FORBIDDEN, "This credential may not read this run's output topic."));
                    }
                    String query = request.getURI().getRawQuery();
                    return relay(URI.create(properties.deliveryUrl() + "/internal/v1/tenants/" + caller.tenant() + "/topics/"
                            + topic + "/durable-stream?correlation=" + UriUtils.encodeQueryParam(run, StandardCharsets.UTF_8)
                            + (query == null ? "" : "&" + query)), caller, request, response);
                });
    }

    /**
     * Forwards the request to {@code target} in delivery-service and relays the answer as it comes. A
     * live read holds one of its tenant's {@code maxLiveStreamReads} places on this gateway until it ends.
     */
    private Mono<Void> relay(URI target, Caller caller, ServerHttpRequest request, ServerHttpResponse response) {
        if (request.getMethod() != HttpMethod.GET || !request.getQueryParams().containsKey("live")) {
            return forward(target, caller, request, response);
        }
        AtomicInteger reads = liveReads.computeIfAbsent(caller.tenant(), t -> new AtomicInteger());
        if (reads.incrementAndGet() > admission.maxLiveStreamReads()) {
            release(caller.tenant(), reads);
            return Mono.error(SwitchboardException.retryLater(ErrorCode.RATE_LIMITED, "This tenant has " + admission.maxLiveStreamReads()
                    + " live stream reads open on this gateway, as many as it may; retry shortly.", admission.busyRetryAfter()));
        }
        return forward(target, caller, request, response).doFinally(signal -> release(caller.tenant(), reads));
    }

    /** One live read ended; a tenant's counter goes once it is back to zero. */
    private void release(String tenant, AtomicInteger reads) {
        if (reads.decrementAndGet() <= 0) {
            liveReads.computeIfPresent(tenant, (t, n) -> n.get() <= 0 ? null : n);
        }
    }

    /** Live reads open on this gateway, per tenant. */
    int liveReads(String tenant) {
        AtomicInteger n = liveReads.get(tenant);
        return n == null ? 0 : n.get();
    }

    private Mono<Void> forward(URI target, Caller caller, ServerHttpRequest request, ServerHttpResponse response) {
        HttpMethod method = request.getMethod();
        WebClient.RequestBodySpec out = web.method(method)
                .uri(target)
                .headers(h -> request.getHeaders().forEach((header, values) -> {
                    if (REQUEST_HEADERS.contains(header.toLowerCase(Locale.ROOT))) {
                        h.put(header, values);
                    }
                }));
        WebClient.RequestHeadersSpec<?> withBody = method == HttpMethod.PUT || method == HttpMethod.POST
                ? out.body(BodyInserters.fromDataBuffers(request.getBody()))
                : out;
        String authorization = request.getHeaders().getFirst(HttpHeaders.AUTHORIZATION);
        return withBody.exchangeToMono(answer -> {
                    response.setStatusCode(answer.statusCode());
                    HttpHeaders headers = response.getHeaders();
                    answer.headers().asHttpHeaders().forEach((header, values) -> {
                        if (!HOP_BY_HOP.contains(header.toLowerCase(Locale.ROOT))) {
                            headers.put(header, values);
                        }
                    });
                    String location = headers.getFirst(HttpHeaders.LOCATION);
                    if (location != null) {
                        // Absolute, on the URL the client used.
                        headers.set(HttpHeaders.LOCATION, UriComponentsBuilder.fromUri(request.getURI()).replacePath(location)
                                .replaceQuery(null).build(true).toUriString());
                    }
                    // The protocol's browser security headers (§10.7): streams are fetched across origins, never sniffed.
                    headers.set("X-Content-Type-Options", "nosniff");
                    headers.set("Cross-Origin-Resource-Policy", "cross-origin");
                    if (method == HttpMethod.HEAD) {
                        answer.headers().contentLength().ifPresent(n -> response.getHeaders().setContentLength(n));
                        return answer.releaseBody().then(response.setComplete());
                    }
                    Flux<DataBuffer> upstream = answer.bodyToFlux(DataBuffer.class);
                    boolean sse = answer.headers().contentType().filter(MediaType.TEXT_EVENT_STREAM::isCompatibleWith).isPresent();
                    // Each chunk the client gets ends where an event ends, however the upstream reads were cut.
                    Flux<DataBuffer> body = ends(sse ? SseEventAligner.align(upstream) : upstream, caller, authorization);
                    return response.writeAndFlushWith(body.map(Mono::just));
                })
                .onErrorMap(e -> UpstreamHttp.unavailable(e, "The event log", "delivery-service"))
                .checkpoint("durable stream " + method);
    }

    /** The body, cut short when the credential stops authenticating or the client JWT expires. */
    private Flux<DataBuffer> ends(Flux<DataBuffer> body, Caller caller, String authorization) {
        Flux<DataBuffer> watched = body.takeUntilOther(watch.revoked(caller, authorization))
                .doOnDiscard(DataBuffer.class, DataBufferUtils::release);
        if (caller instanceof Caller.Jwt jwt) {
            return watched.take(Duration.ofMillis(Math.max(0, Duration.between(Instant.now(), jwt.expiresAt()).toMillis())));
        }
        return watched;
    }

    private static String rawName(ServerHttpRequest request) {
        String raw = request.getPath().pathWithinApplication().value();
        return raw.length() <= PREFIX.length() ? "" : raw.substring(PREFIX.length());
    }

    /** The stream's path after {@code /v1/stream/}, decoded; refused when empty or when it walks out of its prefix. */
    private static String streamName(ServerHttpRequest request) {
        String name = UriUtils.decode(rawName(request), StandardCharsets.UTF_8);
        if (name.isEmpty() || name.length() > 1024) {
            throw SwitchboardException.invalid("A stream path is 1 to 1024 characters after /v1/stream/.");
        }
        for (String segment : name.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                throw SwitchboardException.invalid("A stream path has no empty, '.' or '..' segments.");
            }
        }
        for (int i = 0; i < name.length(); i++) {
            if (Character.isISOControl(name.charAt(i))) {
                throw SwitchboardException.invalid("A stream path has no control characters.");
            }
        }
        return name;
    }
}
