package dev.switchboard.delivery.web;

import dev.switchboard.platform.problem.SwitchboardException;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * A JSON body must be well-formed UTF-8 (RFC 8259 §8.1): no overlong forms ({@code C0 AF} for
 * {@code /}), no surrogates, nothing above U+10FFFF. A lenient decoder maps such bytes to
 * characters, so two different bodies could be stored as one event or deduplicated to one id;
 * they are refused instead. The body is stored as sent, so it is checked as sent, in slices
 * through a small buffer rather than decoded whole.
 */
public final class StrictUtf8 {

    private StrictUtf8() {
    }

    public static void require(byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(Math.min(bytes.length + 1, 4096));
        while (true) {
            CoderResult result = decoder.decode(in, out, true);
            if (result.isError()) {
                throw invalid(in.position());
            }
            if (result.isUnderflow()) {
                break;
            }
            out.clear();
        }
        out.clear();
        if (decoder.flush(out).isError()) {
            throw invalid(in.position());
        }
    }

    private static SwitchboardException invalid(int offset) {
        return SwitchboardException.invalid("The body is not well-formed UTF-8 (at byte " + offset + ").");
    }
}
