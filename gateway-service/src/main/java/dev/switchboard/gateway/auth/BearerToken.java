package dev.switchboard.gateway.auth;

import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.core.authority.AuthorityUtils;

/** A bearer token as presented, before it is checked. */
final class BearerToken extends AbstractAuthenticationToken {

    private final String token;

    BearerToken(String token) {
        super(AuthorityUtils.NO_AUTHORITIES);
        this.token = token;
    }

    /**
     * The token of an {@code Authorization: Bearer …} header, or null when there is none. Only the spaces
     * after the scheme go: a token with anything else around it (a NUL, a tab) is not the token.
     */
    static String parse(String header) {
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7) || header.length() <= 7) {
            return null;
        }
        int start = 7;
        while (start < header.length() && header.charAt(start) == ' ') {
            start++;
        }
        return header.substring(start);
    }

    @Override
    public String getCredentials() {
        return token;
    }

    @Override
    public Object getPrincipal() {
        return "bearer";
    }
}
