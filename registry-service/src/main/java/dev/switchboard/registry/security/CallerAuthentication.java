package dev.switchboard.registry.security;

import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.core.authority.AuthorityUtils;

/**
 * A bearer token, first as presented ({@link #unverified}) and then as recognised
 * ({@link #of(Caller)}, authenticated, with one role: {@code PLATFORM}, {@code TENANT_KEY} or
 * {@code SERVICE}). The token itself is never kept once recognised.
 */
final class CallerAuthentication extends AbstractAuthenticationToken {

    static final String PLATFORM = "PLATFORM";
    static final String TENANT_KEY = "TENANT_KEY";
    static final String SERVICE = "SERVICE";

    private final String token;
    private final Caller caller;

    private CallerAuthentication(String token, Caller caller, String role) {
        super(role == null ? AuthorityUtils.NO_AUTHORITIES : AuthorityUtils.createAuthorityList("ROLE_" + role));
        this.token = token;
        this.caller = caller;
        setAuthenticated(caller != null);
    }

    static CallerAuthentication unverified(String token) {
        return new CallerAuthentication(token, null, null);
    }

    static CallerAuthentication of(Caller caller) {
        String role;
        if (caller instanceof Caller.Platform) {
            role = PLATFORM;
        } else if (caller instanceof Caller.TenantKey) {
            role = TENANT_KEY;
        } else {
            role = SERVICE;
        }
        return new CallerAuthentication(null, caller, role);
    }

    /** The token as presented; empty when the Authorization header was not a bearer token. */
    String token() {
        return token;
    }

    @Override
    public Object getCredentials() {
        return token;
    }

    @Override
    public Object getPrincipal() {
        return caller;
    }
}
