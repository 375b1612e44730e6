package dev.switchboard.leaks;

import io.netty.util.ResourceLeakDetector;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Netty's leak detection level while this test class runs (then the module's level again): for
 * the classes that drive the server's own buffer handling and can afford tracking every buffer
 * ({@code PARANOID}), in a module whose timing-sensitive classes cannot.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@Inherited
public @interface LeakDetectionLevel {

    ResourceLeakDetector.Level value();
}
