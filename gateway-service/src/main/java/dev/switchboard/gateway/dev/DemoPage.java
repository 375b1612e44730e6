package dev.switchboard.gateway.dev;

import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.ClassPathResource;
import org.springframework.core.io.Resource;
import org.springframework.http.CacheControl;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

/**
 * Development mode only, like {@link DevTokenController} whose tokens it uses: the demo page at
 * {@code /} and its script {@code /demo.js}, from {@code demo/} on the classpath — outside
 * {@code static/}, so that without development mode nothing serves them and both are a 404. The SDK
 * itself ({@code /sdk/…}) is served in every mode.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(prefix = "switchboard.gateway", name = "dev", havingValue = "true")
class DemoPage {

    static final MediaType HTML = MediaType.parseMediaType("text/html;charset=UTF-8");
    static final MediaType JAVASCRIPT = MediaType.parseMediaType("text/javascript;charset=UTF-8");

    @Bean
    RouterFunction<ServerResponse> demoPageRoutes() {
        Resource page = new ClassPathResource("demo/index.html");
        Resource script = new ClassPathResource("demo/demo.js");
        return RouterFunctions.route()
                .GET("/", request -> file(page, HTML))
                .GET("/demo.js", request -> file(script, JAVASCRIPT))
                .build();
    }

    /** Revalidated on every load, like the SDK, so a page never runs an older script than its gateway's. */
    private static Mono<ServerResponse> file(Resource resource, MediaType type) {
        return ServerResponse.ok().contentType(type).cacheControl(CacheControl.noCache()).bodyValue(resource);
    }
}
