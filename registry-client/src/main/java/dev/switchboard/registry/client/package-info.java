/**
 * The registry client of every service: {@link dev.switchboard.registry.client.RegistryClient}, its
 * cached implementation {@link dev.switchboard.registry.client.CachingRegistryClient} kept correct
 * by registry-service's change feed, and the auto-configuration that builds it when
 * {@code switchboard.registry-client.base-url} is set.
 */
package dev.switchboard.registry.client;
