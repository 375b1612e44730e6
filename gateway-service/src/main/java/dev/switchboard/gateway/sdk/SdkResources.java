package dev.switchboard.gateway.sdk;

import org.springframework.context.annotation.Configuration;
import org.springframework.http.CacheControl;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.config.ResourceHandlerRegistry;
import org.springframework.web.reactive.config.WebFluxConfigurer;

import java.util.Map;

/**
 * The browser SDK at {@code /sdk/switchboard.js} (an ES module) and its types at
 * {@code /sdk/switchboard.d.ts}, from {@code static/sdk/}. Mapped here rather than left to the
 * default static handling because {@code .ts} would go out as {@code video/mp2t}; and revalidated on
 * every load ({@code no-cache}, with Last-Modified), so pages pick up a new gateway's SDK at once.
 * Served in every mode; the demo page ({@code /}, {@code /demo.js}) only in development mode
 * ({@code dev/DemoPage}).
 */
@Configuration(proxyBeanMethods = false)
class SdkResources implements WebFluxConfigurer {

    static final MediaType JAVASCRIPT = MediaType.parseMediaType("text/javascript;charset=UTF-8");
    static final MediaType TYPESCRIPT_DECLARATIONS = MediaType.parseMediaType("text/plain;charset=UTF-8");

    @Override
    public void addResourceHandlers(ResourceHandlerRegistry registry) {
        registry.addResourceHandler("/sdk/**")
                .addResourceLocations("classpath:/static/sdk/")
                .setCacheControl(CacheControl.noCache())
                .setMediaTypes(Map.of("js", JAVASCRIPT, "ts", TYPESCRIPT_DECLARATIONS));
    }
}
