package dev.switchboard.platform.web;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.web.bind.WebDataBinder;
import org.springframework.web.bind.annotation.ControllerAdvice;
import org.springframework.web.bind.annotation.InitBinder;

import java.beans.PropertyEditorSupport;
import java.util.function.LongFunction;

/**
 * Numbers in query parameters and path variables are plain ASCII decimals. Spring's default
 * number editor goes through {@code Long.decode}: {@code after=0x10} was read as 16, {@code #10}
 * too, and {@code Character.digit} takes any script's digits, so {@code after=٣} was 3. Anything
 * but {@code -?[0-9]+} now fails to bind, answered as {@code 400 invalid_request}.
 *
 * <p>An editor, not a converter: when a converter fails, Spring's binder falls back to its
 * default editor, which would decode the value after all.
 */
@AutoConfiguration
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
public class StrictNumberParametersAutoConfiguration {

    /** Whether {@code text} is an optional minus and 1 to 19 ASCII digits (more would overflow a long). */
    static boolean isAsciiDecimal(String text) {
        int start = text.startsWith("-") ? 1 : 0;
        if (text.length() == start || text.length() - start > 19) {
            return false;
        }
        for (int i = start; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    static long parse(String text) {
        if (!isAsciiDecimal(text)) {
            throw new IllegalArgumentException("'" + text + "' is not a decimal integer (ASCII digits 0-9 only)");
        }
        return Long.parseLong(text);
    }

    /** Binds every controller's {@code long}, {@code Long}, {@code int} and {@code Integer} parameters strictly. */
    @ControllerAdvice
    static class StrictNumberBinding {

        @InitBinder
        void strictNumbers(WebDataBinder binder) {
            binder.registerCustomEditor(long.class, new Editor(value -> value));
            binder.registerCustomEditor(Long.class, new Editor(value -> value));
            binder.registerCustomEditor(int.class, new Editor(Math::toIntExact));
            binder.registerCustomEditor(Integer.class, new Editor(Math::toIntExact));
        }
    }

    private static final class Editor extends PropertyEditorSupport {
        private final LongFunction<Object> narrow;

        Editor(LongFunction<Object> narrow) {
            this.narrow = narrow;
        }

        @Override
        public void setAsText(String text) {
            if (text == null || text.isEmpty()) {
                setValue(null);
                return;
            }
            long value = parse(text);
            try {
                setValue(narrow.apply(value));
            } catch (ArithmeticException e) {
                // An IllegalArgumentException is what binding turns into a 400; an ArithmeticException was a 500.
                throw new IllegalArgumentException("'" + text + "' is out of range", e);
            }
        }
    }

    @Bean
    StrictNumberBinding strictNumberBinding() {
        return new StrictNumberBinding();
    }
}
