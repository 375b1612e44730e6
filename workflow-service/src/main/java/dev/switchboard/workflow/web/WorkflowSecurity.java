package dev.switchboard.workflow.web;

import dev.switchboard.platform.problem.ProblemWebExceptionHandler;
import dev.switchboard.platform.security.InternalServiceSecurity;
import dev.switchboard.workflow.config.WorkflowProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.web.server.SecurityWebFilterChain;

/**
 * workflow-service is internal: only callers holding the service token (the gateway) reach
 * {@code /internal/v1}, and they vouch for the tenant in the path and for the caller's scope.
 */
@Configuration(proxyBeanMethods = false)
class WorkflowSecurity {

    @Bean
    SecurityWebFilterChain workflowFilterChain(ServerHttpSecurity http, WorkflowProperties properties,
                                               ProblemWebExceptionHandler problems) {
        return InternalServiceSecurity.chain(http, problems, properties.serviceToken(), "workflow-service");
    }
}
