package dev.switchboard.workflow.run;

import java.util.UUID;

/** A run, by its tenant and id. */
record RunKey(String tenant, UUID run) {
}
