package dev.switchboard.workflow.pipeline;

import java.time.Instant;

/**
 * One stored version of a pipeline.
 *
 * @param definition its normalized JSON, exactly as stored
 */
record PipelineVersion(String name, int version, String definition, Instant createdAt) {
}
