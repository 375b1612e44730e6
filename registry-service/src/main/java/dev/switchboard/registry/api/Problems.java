package dev.switchboard.registry.api;

import dev.switchboard.platform.problem.SwitchboardException;

/** Problems more than one feature raises, worded once so no caller can tell two cases apart. */
public final class Problems {

    private Problems() {
    }

    /**
     * A tenant that does not exist, was deleted, or belongs to someone else: the same answer in
     * every case, so a credential of tenant A learns nothing about tenant B.
     */
    public static SwitchboardException tenantNotFound(String tenant) {
        return SwitchboardException.notFound("Tenant '" + shorten(tenant) + "' not found.");
    }

    public static String shorten(String value) {
        return value == null || value.length() <= 80 ? value : value.substring(0, 80) + "…";
    }
}
