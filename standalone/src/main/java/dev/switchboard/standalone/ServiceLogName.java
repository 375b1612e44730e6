package dev.switchboard.standalone;

import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code %service} in the standalone's log pattern: the service a line belongs to, in brackets.
 * <p>
 * Every service of the standalone JVM logs through one logback context, and Spring Boot sets the
 * application name in it once, for the first service to start, so Boot's own pattern would put
 * {@code [registry-service]} on the gateway's and delivery's lines too. This converter names the
 * service from the logger (our own packages), else from the thread that is starting or stopping
 * a service (Spring's and the libraries' start-up lines), else {@code [switchboard]}: a line from
 * the event loops and drivers all services share, that no one service owns.
 */
public final class ServiceLogName extends ClassicConverter {

    /** Lines that belong to no one service. */
    static final String SHARED = "switchboard";

    /** The service the current thread is starting or stopping; not inherited by threads it creates. */
    private static final ThreadLocal<String> ACTING_FOR = new ThreadLocal<>();

    private static final List<Map.Entry<String, String>> PACKAGES = Services.ALL.stream()
            .map(s -> Map.entry(codePackage(s) + ".", "[" + s.name() + "] "))
            .toList();

    /** Where a service's own code lives: {@code registry-service} → {@code dev.switchboard.registry}. */
    static String codePackage(ServiceDescriptor service) {
        return "dev.switchboard." + service.name().replaceFirst("-service$", "");
    }

    /** Runs {@code work} on this thread with its log lines named for {@code service}. */
    static <T> T actingFor(String service, Supplier<T> work) {
        String previous = ACTING_FOR.get();
        ACTING_FOR.set(service);
        try {
            return work.get();
        } finally {
            if (previous == null) {
                ACTING_FOR.remove();
            } else {
                ACTING_FOR.set(previous);
            }
        }
    }

    static void actingFor(String service, Runnable work) {
        actingFor(service, () -> {
            work.run();
            return null;
        });
    }

    @Override
    public String convert(ILoggingEvent event) {
        String logger = event.getLoggerName();
        for (Map.Entry<String, String> owner : PACKAGES) {
            if (logger.startsWith(owner.getKey())) {
                return owner.getValue();
            }
        }
        String acting = ACTING_FOR.get();
        return "[" + (acting == null ? SHARED : acting) + "] ";
    }
}
