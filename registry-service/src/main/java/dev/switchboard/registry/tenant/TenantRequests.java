package dev.switchboard.registry.tenant;

import dev.switchboard.contracts.registry.TenantQuotas;
import io.swagger.v3.oas.annotations.media.Schema;

/** Request shapes, for the OpenAPI document only: bodies are read field by field by {@code JsonBody}. */
final class TenantRequests {

    private TenantRequests() {
    }

    @Schema(name = "TenantCreate")
    record Create(
            @Schema(description = "[a-z0-9][a-z0-9_-]*, at most 64 characters; never reusable once taken",
                    requiredMode = Schema.RequiredMode.REQUIRED, example = "acme") String id,
            @Schema(description = "1 to 200 characters", requiredMode = Schema.RequiredMode.REQUIRED, example = "Acme Inc.") String name,
            @Schema(description = "missing fields take defaults") TenantQuotas quotas) {
    }

    @Schema(name = "TenantPatch", description = "JSON merge patch (RFC 7396): absent fields stay, null quota fields reset to defaults")
    record Patch(String name, TenantQuotas quotas) {
    }
}
