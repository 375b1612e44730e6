package dev.switchboard.registryclient;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class CacheKeyTests {

    @Test
    void anApiKeyIsKeptOnlyAsItsSha256() {
        CacheKey.ApiKey key = CacheKey.ApiKey.of("abc");

        // FIPS 180-2 test vector.
        assertThat(key.sha256()).isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assertThat(key.toString()).doesNotContain("abc");
        assertThat(key.tenant()).isNull();
    }

    @Test
    void theSameKeyGivesTheSameCacheKeyAndAnotherKeyAnother() {
        assertThat(CacheKey.ApiKey.of("sb_one")).isEqualTo(CacheKey.ApiKey.of("sb_one"))
                .isNotEqualTo(CacheKey.ApiKey.of("sb_two"));
    }

    @Test
    void tenantScopedKeysNameTheirTenant() {
        assertThat(new CacheKey.Topic("acme", "chat.a").tenant()).isEqualTo("acme");
        assertThat(new CacheKey.Secrets("acme").tenant()).isEqualTo("acme");
        assertThat(new CacheKey.Quotas("acme").tenant()).isEqualTo("acme");
        assertThat(new CacheKey.Topic("acme", "a")).isNotEqualTo(new CacheKey.Topic("globex", "a"));
    }
}
