package dev.switchboard.gateway.admission;

import dev.switchboard.platform.http.ServerPipeline;
import dev.switchboard.registryclient.RegistryClient;
import org.springframework.boot.reactor.netty.NettyServerCustomizer;
import org.springframework.stereotype.Component;
import reactor.netty.NettyPipeline;
import reactor.netty.http.server.HttpServer;

/** Puts an {@link EdgeFastPath} right after the HTTP decoder of every connection to this gateway. */
@Component
class EdgeFastPathCustomizer implements NettyServerCustomizer {

    private final EdgeAdmission admission;
    private final RegistryClient registry;

    EdgeFastPathCustomizer(EdgeAdmission admission, RegistryClient registry) {
        this.admission = admission;
        this.registry = registry;
    }

    @Override
    public HttpServer apply(HttpServer server) {
        return ServerPipeline.addAfter(server, NettyPipeline.HttpCodec, EdgeFastPath.NAME, () -> new EdgeFastPath(admission, registry));
    }
}
