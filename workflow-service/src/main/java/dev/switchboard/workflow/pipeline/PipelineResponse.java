package dev.switchboard.workflow.pipeline;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonRawValue;

import java.time.Instant;
import java.util.List;

/**
 * A pipeline version as the API shows it.
 *
 * @param definition the normalized definition, exactly as stored; absent in lists
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"name", "version", "createdAt", "definition"})
record PipelineResponse(String name, int version, Instant createdAt, @JsonRawValue String definition) {

    static PipelineResponse of(PipelineVersion stored) {
        return new PipelineResponse(stored.name(), stored.version(), stored.createdAt(), stored.definition());
    }

    /**
     * One page of {@code GET /v1/pipelines}: the latest version of each pipeline, by name.
     *
     * @param next the cursor of the next page ({@code ?after=}), absent on the last
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Page(List<PipelineResponse> pipelines, String next) {
    }
}
