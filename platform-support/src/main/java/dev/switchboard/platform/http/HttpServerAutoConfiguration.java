package dev.switchboard.platform.http;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import reactor.netty.http.server.HttpServer;

/** What every Switchboard service's Reactor Netty server gets. */
@AutoConfiguration
@ConditionalOnClass(HttpServer.class)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
public class HttpServerAutoConfiguration {

    @Bean
    KeepAliveReadRearm keepAliveReadRearm() {
        return new KeepAliveReadRearm();
    }

    @Bean
    DecodingFailureProblems decodingFailureProblems() {
        return new DecodingFailureProblems();
    }
}
