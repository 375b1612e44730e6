package dev.switchboard.registry.key;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.switchboard.contracts.registry.Scope;

import java.time.Instant;
import java.util.List;

/** An API key as the admin API shows it; {@code key} only in the answer that created it. */
@JsonPropertyOrder({"id", "key", "name", "scopes", "createdAt"})
record KeyResponse(String id, @JsonInclude(JsonInclude.Include.NON_NULL) String key, String name,
                   List<Scope> scopes, Instant createdAt) {

    static KeyResponse of(KeyRow row) {
        return new KeyResponse(row.id(), null, row.name(), row.scopes(), row.createdAt());
    }

    static KeyResponse created(KeyRow row, String key) {
        return new KeyResponse(row.id(), key, row.name(), row.scopes(), row.createdAt());
    }
}
