package dev.switchboard.contracts.envelope;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import tools.jackson.databind.json.JsonMapper;

import java.math.BigDecimal;
import java.math.BigInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class RawJsonProperties {

    private final JsonMapper json = JsonMapper.builder().build();

    @Property
    void decimalsKeepTheirExactText(@ForAll BigDecimal number) {
        String text = number.toString();
        assertThat(RawJson.parse(text).json()).isEqualTo(text);
        assertThat(json.readValue("{\"type\":\"t\",\"data\":[" + text + "]}", Event.class).data().json())
                .isEqualTo("[" + text + "]");
    }

    @Property
    void integersKeepTheirExactText(@ForAll("bigIntegers") BigInteger number) {
        assertThat(RawJson.parse(number.toString()).json()).isEqualTo(number.toString());
    }

    @Property
    void stringsSurviveEscaping(@ForAll("wellFormedStrings") String text) {
        RawJson value = RawJson.ofString(text);
        assertThat(json.readValue(value.json(), String.class)).isEqualTo(text);
        assertThat(RawJson.parse(value.json())).isEqualTo(value);
    }

    @Property
    void parseIsIdempotent(@ForAll("jsonish") String text) {
        RawJson once;
        try {
            once = RawJson.parse(text);
        } catch (IllegalArgumentException notJson) {
            return;
        }
        assertThat(RawJson.parse(once.json())).isEqualTo(once);
        assertThat(json.readTree(once.json())).isEqualTo(json.readTree(text));
    }

    @Property
    void trailingContentIsRefused(@ForAll("bigIntegers") BigInteger a) {
        assertThatIllegalArgumentException().isThrownBy(() -> RawJson.parse(a + " " + a));
        assertThatIllegalArgumentException().isThrownBy(() -> RawJson.parse("{\"a\":" + a + "} x"));
    }

    @Provide
    Arbitrary<BigInteger> bigIntegers() {
        return Arbitraries.bigIntegers().between(BigInteger.TEN.pow(40).negate(), BigInteger.TEN.pow(40));
    }

    @Provide
    Arbitrary<String> wellFormedStrings() {
        // Any code point, surrogates only in pairs: what a JSON text can carry.
        return Arbitraries.integers().between(0, Character.MAX_CODE_POINT)
                .filter(cp -> cp < Character.MIN_SURROGATE || cp > Character.MAX_SURROGATE)
                .list().ofMaxSize(30)
                .map(cps -> cps.stream().collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
                        .toString());
    }

    @Provide
    Arbitrary<String> jsonish() {
        return Arbitraries.strings().withChars("{}[]\",:0123456789.eE-+ truefalsn\\a".toCharArray()).ofMaxLength(20);
    }
}
