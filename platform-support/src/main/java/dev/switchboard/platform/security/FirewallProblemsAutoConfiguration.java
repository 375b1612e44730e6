package dev.switchboard.platform.security;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.platform.problem.ProblemMapper;
import dev.switchboard.platform.problem.ProblemWebExceptionHandler;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.context.annotation.Bean;
import org.springframework.security.web.server.firewall.ServerExchangeRejectedHandler;

/**
 * Spring Security's firewall refuses a request whose path it will not route — {@code .} or
 * {@code ..} segments, an encoded slash or dot, a control character — with an empty {@code 400}.
 * Ours is the catalog's problem body, like every other client mistake's.
 */
@AutoConfiguration(after = dev.switchboard.platform.problem.ProblemAutoConfiguration.class)
@ConditionalOnClass(ServerExchangeRejectedHandler.class)
public class FirewallProblemsAutoConfiguration {

    @Bean
    @ConditionalOnBean(ProblemWebExceptionHandler.class)
    ServerExchangeRejectedHandler problemExchangeRejectedHandler(ProblemWebExceptionHandler problems) {
        return (exchange, rejected) -> problems.write(exchange.getResponse(), ProblemMapper.of(ErrorCode.INVALID_REQUEST,
                "The request's path or headers are not accepted here: no '.' or '..' segments, encoded slashes or dots,"
                        + " or control characters."));
    }
}
