package dev.switchboard.registry.key;

import dev.switchboard.contracts.registry.Scope;
import io.r2dbc.spi.Readable;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;

/** The listable columns of an {@code api_keys} row (never the hash). */
record KeyRow(String id, String name, List<Scope> scopes, Instant createdAt) {

    static final String COLUMNS = "id, name, scopes, created_at";

    static KeyRow from(Readable row) {
        return new KeyRow(row.get("id", String.class), row.get("name", String.class),
                scopes(row.get("scopes", String[].class)), row.get("created_at", Instant.class));
    }

    static List<Scope> scopes(String[] wire) {
        return Arrays.stream(wire).map(Scope::fromWire).sorted().toList();
    }
}
