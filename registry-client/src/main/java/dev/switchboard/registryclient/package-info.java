/**
 * The registry client of every service: {@link dev.switchboard.registryclient.RegistryClient}, its
 * cached implementation {@link dev.switchboard.registryclient.CachingRegistryClient} kept correct
 * by registry-service's change feed, and the auto-configuration that builds it when
 * {@code switchboard.registry-client.base-url} is set.
 */
package dev.switchboard.registryclient;
