package dev.switchboard.gateway.admission;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.stereotype.Component;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;

/**
 * Bounds how many credentials one client address may have refused: a Bucket4j bucket per address
 * that only refused credentials take from ({@link AdmissionProperties#authFailureBurst()}, refilled at
 * {@link AdmissionProperties#authFailuresPerMinute()}). While it is empty, that address's {@code /v1}
 * requests and WebSocket upgrades are refused before any credential is looked at, so guessing API
 * keys or client secrets from one address goes at that pace at most, and each refusal costs a map
 * look-up. Addresses that never fail have no bucket.
 *
 * <p>The address is the connection's peer (behind a proxy, the proxy's own unless the gateway is
 * told to trust forwarded headers, {@code server.forward-headers-strategy}); every client behind one
 * address shares its allowance, which is why only refusals count. Buckets live in this gateway's
 * memory (at most {@value #MAX_ADDRESSES} addresses, each forgotten after 10 idle minutes): with N
 * gateways an address gets up to N times the allowance.
 */
@Component
public class AuthFailureLimiter {

    static final int MAX_ADDRESSES = 50_000;

    private final boolean enabled;
    private final Bandwidth allowance;
    private final Cache<String, Bucket> buckets = Caffeine.newBuilder()
            .maximumSize(MAX_ADDRESSES)
            .expireAfterAccess(Duration.ofMinutes(10))
            .build();
    private final Counter failures;
    private final Counter refused;

    AuthFailureLimiter(AdmissionProperties properties, MeterRegistry meters) {
        this.enabled = properties.enabled();
        this.allowance = Bandwidth.builder().capacity(properties.authFailureBurst())
                .refillGreedy(properties.authFailuresPerMinute(), Duration.ofMinutes(1)).build();
        this.failures = Counter.builder("switchboard.gateway.auth.failures")
                .description("Credentials refused (REST bearer tokens and WebSocket connect tokens)").register(meters);
        this.refused = Counter.builder("switchboard.gateway.auth.failures.refused")
                .description("Requests refused unchecked because their address had too many credentials refused").register(meters);
    }

    /** A credential from {@code remote} was refused. */
    public void failed(InetSocketAddress remote) {
        failures.increment();
        String address = address(remote);
        if (enabled && address != null) {
            buckets.get(address, a -> Bucket.builder().addLimit(allowance).build()).tryConsume(1);
        }
    }

    /** Empty when {@code remote} may still present credentials; else how long until it may again. */
    public Optional<Duration> blocked(InetSocketAddress remote) {
        String address = address(remote);
        Bucket bucket = !enabled || address == null ? null : buckets.getIfPresent(address);
        if (bucket == null || bucket.getAvailableTokens() > 0) {
            return Optional.empty();
        }
        refused.increment();
        return Optional.of(Duration.ofNanos(Math.max(1_000_000, bucket.estimateAbilityToConsume(1).getNanosToWaitForRefill())));
    }

    private static String address(InetSocketAddress remote) {
        return remote == null || remote.getAddress() == null ? null : remote.getAddress().getHostAddress();
    }
}
