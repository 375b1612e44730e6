package dev.switchboard.platform.problem;

import dev.switchboard.contracts.errors.Headers;
import org.springframework.core.Ordered;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebExceptionHandler;
import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;

/**
 * Renders every failure that reaches the web layer — from handlers, filters, security or routing —
 * as {@code application/problem+json}, ahead of Boot's default error page.
 */
public class ProblemWebExceptionHandler implements WebExceptionHandler, Ordered {

    private static final MediaType PROBLEM_JSON = MediaType.parseMediaType(Headers.PROBLEM_JSON);

    private final JsonMapper json;

    public ProblemWebExceptionHandler(JsonMapper json) {
        this.json = json;
    }

    @Override
    public Mono<Void> handle(ServerWebExchange exchange, Throwable ex) {
        ServerHttpResponse response = exchange.getResponse();
        if (response.isCommitted()) {
            return Mono.error(ex);
        }
        ProblemMapper.Mapped mapped = ProblemMapper.map(ex);
        return write(response, mapped);
    }

    /** Writes a problem to a response that is not yet committed. */
    public Mono<Void> write(ServerHttpResponse response, ProblemMapper.Mapped mapped) {
        response.setStatusCode(HttpStatusCode.valueOf(mapped.problem().getStatus()));
        response.getHeaders().setContentType(PROBLEM_JSON);
        mapped.headers().forEach((name, values) -> response.getHeaders().put(name, values));
        if (mapped.problem().getStatus() == 401 && !response.getHeaders().containsHeader(HttpHeaders.WWW_AUTHENTICATE)) {
            // RFC 9110 §15.5.2: a 401 names its scheme; every service takes bearer tokens only.
            response.getHeaders().set(HttpHeaders.WWW_AUTHENTICATE, "Bearer");
        }
        byte[] body = json.writeValueAsBytes(mapped.problem());
        DataBuffer buffer = response.bufferFactory().wrap(body);
        return response.writeWith(Mono.just(buffer));
    }

    @Override
    public int getOrder() {
        // Boot's DefaultErrorWebExceptionHandler runs at -1; answer before it.
        return -2;
    }
}
