package dev.switchboard.standalone;

import org.springframework.boot.SpringApplication;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.support.GenericApplicationContext;
import org.springframework.http.client.ReactorResourceFactory;

/**
 * What a service needs to share one JVM with the others and still behave as if it had its own.
 */
final class SharedJvm {

    private SharedJvm() {
    }

    /** Prepares a service's SpringApplication to run beside the others. */
    static SpringApplication prepare(SpringApplication application) {
        // The launcher's own hook closes the services in reverse order, then PostgreSQL;
        // Spring's hook would close them in start order, racing PostgreSQL's stop.
        application.setRegisterShutdownHook(false);
        // Logs say "Starting RegistryApplication", not the launcher's class Boot finds on the stack.
        application.getAllSources().stream()
                .filter(Class.class::isInstance)
                .findFirst()
                .ifPresent(source -> application.setMainApplicationClass((Class<?>) source));
        application.addInitializers(new OwnReactorResources());
        return application;
    }

    /**
     * By default every context's Reactor Netty server and WebClient run on the JVM-wide
     * {@code HttpResources}, and the first context to close disposes them under the others.
     * A {@link ReactorResourceFactory} of its own per service (Boot's backs off when one exists)
     * gives each its own event loops and connection pool, as its own process would have.
     */
    static final class OwnReactorResources implements ApplicationContextInitializer<ConfigurableApplicationContext> {

        @Override
        public void initialize(ConfigurableApplicationContext context) {
            if (context instanceof GenericApplicationContext generic) {
                generic.registerBean("reactorResourceFactory", ReactorResourceFactory.class, () -> {
                    ReactorResourceFactory factory = new ReactorResourceFactory();
                    factory.setUseGlobalResources(false);
                    return factory;
                });
            }
        }
    }
}
