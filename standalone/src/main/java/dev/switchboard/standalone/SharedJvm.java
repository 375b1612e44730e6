package dev.switchboard.standalone;

import io.r2dbc.postgresql.PostgresqlConnectionFactoryProvider;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.r2dbc.autoconfigure.ConnectionFactoryOptionsBuilderCustomizer;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.support.GenericApplicationContext;
import org.springframework.http.client.ReactorResourceFactory;
import reactor.netty.resources.LoopResources;

/**
 * What a service needs to share one JVM with the others and still behave as if it had its own.
 */
final class SharedJvm {

    private SharedJvm() {
    }

    /** Event loops for every service of one JVM; whoever creates them disposes them after the last service has closed. */
    static LoopResources newLoops() {
        return LoopResources.create("switchboard");
    }

    /** Prepares a service's SpringApplication to run beside the others, on {@code loops}. */
    static SpringApplication prepare(SpringApplication application, LoopResources loops) {
        // The launcher's own hook closes the services in reverse order, then PostgreSQL;
        // Spring's hook would close them in start order, racing PostgreSQL's stop.
        application.setRegisterShutdownHook(false);
        // Logs say "Starting RegistryApplication", not the launcher's class Boot finds on the stack.
        application.getAllSources().stream()
                .filter(Class.class::isInstance)
                .findFirst()
                .ifPresent(source -> application.setMainApplicationClass((Class<?>) source));
        application.addInitializers(new SharedLoops(loops));
        return application;
    }

    /**
     * One set of event loops under every service's HTTP server, HTTP clients and PostgreSQL
     * connections, and a connection pool of each service's own.
     *
     * <p>Left to their defaults, the servers of the three services, the gateway's client and the
     * database driver each had a set of event loops of their own, of max(cores, 4) threads each:
     * twenty threads on two cores, and a publish went through four of the sets (gateway server,
     * gateway client, delivery server, driver) and back. On one set, a connection a service opens
     * from an event loop stays on that loop (Reactor Netty colocates clients), so fewer hand-offs
     * wait for another thread's turn on the CPU.
     *
     * <p>Each context still gets a {@link ReactorResourceFactory} of its own (Boot's backs off when one
     * exists) so it does not use, and on close dispose, the JVM-wide {@code HttpResources} under the
     * others; given loops, the factory leaves them running when its context closes.
     */
    static final class SharedLoops implements ApplicationContextInitializer<ConfigurableApplicationContext> {

        private final LoopResources loops;

        SharedLoops(LoopResources loops) {
            this.loops = loops;
        }

        @Override
        public void initialize(ConfigurableApplicationContext context) {
            if (context instanceof GenericApplicationContext generic) {
                generic.registerBean("reactorResourceFactory", ReactorResourceFactory.class, () -> {
                    ReactorResourceFactory factory = new ReactorResourceFactory();
                    factory.setUseGlobalResources(false);
                    factory.setLoopResources(loops);
                    return factory;
                });
                generic.registerBean("sharedLoopsForPostgres", ConnectionFactoryOptionsBuilderCustomizer.class,
                        () -> builder -> builder.option(PostgresqlConnectionFactoryProvider.LOOP_RESOURCES, loops));
            }
        }
    }
}
