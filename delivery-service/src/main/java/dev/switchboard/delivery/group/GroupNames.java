package dev.switchboard.delivery.group;

import java.util.regex.Pattern;

/** Names that consumer-group requests carry. */
public final class GroupNames {

    /** A group name: like a tenant id, {@code [a-z0-9][a-z0-9_-]*}, at most 64 characters. */
    public static final String GROUP_PATTERN = "[a-z0-9][a-z0-9_-]{0,63}";
    /** A consumer id: printable, no spaces, at most 128 characters. */
    public static final String CONSUMER_PATTERN = "[A-Za-z0-9._:@-]{1,128}";

    private static final Pattern GROUP = Pattern.compile(GROUP_PATTERN);

    private GroupNames() {
    }

    public static boolean isValidGroup(String group) {
        return group != null && GROUP.matcher(group).matches();
    }
}
