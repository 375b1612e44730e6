package dev.switchboard.registry.api;

import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The OpenAPI document of the admin API ({@code /v3/api-docs}, UI at {@code /swagger-ui.html}).
 * Only {@code /admin/**} is described (springdoc.paths-to-match): the internal API is for the
 * other services and documented in {@code InternalApi}.
 */
@Configuration(proxyBeanMethods = false)
class OpenApiConfiguration {

    static final String BEARER = "bearer";

    @Bean
    OpenAPI registryOpenApi() {
        return new OpenAPI()
                .info(new Info().title("Switchboard registry admin API").version("v1")
                        .description("Tenants, API keys, topics and quotas. Authenticate with the platform admin "
                                + "token, or with a tenant API key that has the admin scope (its own tenant only). "
                                + "Errors are RFC 9457 application/problem+json."))
                .components(new Components().addSecuritySchemes(BEARER, new SecurityScheme()
                        .type(SecurityScheme.Type.HTTP)
                        .scheme("bearer")
                        .description("The platform admin token, or a tenant API key (sb_…) with scope admin.")))
                .addSecurityItem(new SecurityRequirement().addList(BEARER));
    }
}
