/**
 * The Java client of Switchboard for backends, on Reactor Netty and Jackson 3, without Spring.
 *
 * <ul>
 * <li>{@link dev.switchboard.client.SwitchboardClient}: {@code publish} and {@code publishBatch}
 * (an event without an id gets a UUIDv7 before the first attempt, so retries are never a second
 * event), {@code consume}, {@code groupStatus}, {@code seek}.</li>
 * <li>{@link dev.switchboard.client.SwitchboardConsumer}: a running consumer of a group — poll,
 * handle with bounded concurrency, ack, nack with backoff, graceful stop.</li>
 * <li>{@link dev.switchboard.client.IdempotentHandler}: a handler whose PostgreSQL writes take effect
 * once per event, keyed by {@code causationid}, in the handler's own transaction.</li>
 * <li>{@code dev.switchboard.client.spring}: the optional Spring Boot auto-configuration
 * ({@code switchboard.client.*}).</li>
 * </ul>
 */
package dev.switchboard.client;
