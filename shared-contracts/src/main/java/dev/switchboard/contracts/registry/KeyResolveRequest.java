package dev.switchboard.contracts.registry;

/** Body of the internal key resolution call: the key travels in a body, never in a URL. */
public record KeyResolveRequest(String key) {
}
