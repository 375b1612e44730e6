// Types of the Switchboard browser SDK (/sdk/switchboard.js). The wire protocol is in docs/protocol.md.

/** A position in a topic: a seq on a topic with one partition, else {"<partition>": seq}. */
export type Position = number | { [partition: string]: number };

/** A CloudEvents 1.0 event as delivered, with Switchboard's extension attributes. */
export interface SwitchboardEvent<T = unknown> {
  specversion: "1.0";
  id: string;
  source: string;
  type: string;
  time: string;
  datacontenttype?: string;
  data?: T;
  data_base64?: string;
  tenant: string;
  topic: string;
  seq: number;
  partition: number;
  partitionkey?: string;
  causationid?: string;
  correlationid?: string;
  expiresat?: string;
  schemaversion?: number;
  traceparent?: string;
  [extension: string]: unknown;
}

/** What a producer sends: the server fills in id (when absent), time, seq, partition, tenant, topic. */
export interface OutgoingEvent<T = unknown> {
  type: string;
  data?: T;
  id?: string;
  source?: string;
  partitionkey?: string;
  causationid?: string;
  correlationid?: string;
  ttl?: number;
  schemaversion?: number;
  [extension: string]: unknown;
}

/** The server's `published` reply. */
export interface Published {
  topic: string;
  eventId: string;
  seq: number;
  partition: number;
  /** true when the server already had an event with this id (e.g. a publish resent after a reconnect). */
  duplicate: boolean;
}

/**
 * A JWT, or a function returning one. When the function throws (or its promise rejects), the client
 * tries again with backoff, unless the error's `retryable` is `false`: then it closes (`closed` with a
 * SwitchboardError of code `token`), as for a refused token. Mark failures a retry cannot fix that way,
 * e.g. a 4xx other than 408/429 from your token endpoint.
 */
export type TokenSource = string | (() => string | Promise<string>);

export type State = "connecting" | "connected" | "reconnecting" | "closed";

export const States: Readonly<{ CONNECTING: "connecting"; CONNECTED: "connected"; RECONNECTING: "reconnecting"; CLOSED: "closed" }>;

export interface ClientOptions {
  /** A client JWT, or a function returning one (called again before `exp` and after a close 4001); see TokenSource. */
  token: TokenSource;
  /** WebSocket URL; default: /v1/ws on the host that served this module. */
  url?: string;
  /** First reconnect delay; doubles per failed attempt, with jitter (default 250). */
  reconnectDelayMs?: number;
  /** Cap of the reconnect delay (default 30000). */
  maxReconnectDelayMs?: number;
  /**
   * After a restart the server announced (a `reconnect` frame with reason `shutdown`, or close 1012), the
   * delay between attempts instead of the growing backoff: this, jittered ±50 % (default 1000, so 0.5–1.5 s).
   * The first attempt waits the frame's `delayMs`.
   */
  restartRetryDelayMs?: number;
  /**
   * How long after such an announcement attempts stay at restartRetryDelayMs (default 60000); after that the
   * usual backoff resumes, from twice restartRetryDelayMs. 0 turns the short interval off.
   */
  restartRetryWindowMs?: number;
  /** How long a connection may take to be `connected` (default 10000). */
  connectTimeoutMs?: number;
  /** How long a publish may wait for its reply, reconnects included (default 30000). */
  publishTimeoutMs?: number;
  /** Publishes waiting or in flight at most; more are rejected with code `overloaded` (default 1000). */
  maxPendingPublishes?: number;
  /** Publishes whose frame is larger are rejected with code `payload_too_large` without being sent (default 131072, the server's default limit). */
  maxFrameBytes?: number;
  /** A token is replaced a fifth of its lifetime before `exp`, but at most this long before (default 60000). */
  tokenRefreshMarginMs?: number;
  /** Called on every state change. */
  onStateChange?: (state: State, previous: State, detail: Record<string, unknown>) => void;
}

export interface SubscribeOptions {
  /** Replay after this position (0: everything retained); omitted: new events only. */
  after?: Position;
  /** Called when the server refuses or ends the subscription (it is then gone). */
  onError?: (error: SwitchboardError) => void;
}

export interface SubscribedDetail {
  topic: string;
  /** The topic's head when the subscription was made. */
  head: Position;
  /** The `after` sent (the last seq seen when resuming). */
  after?: Position;
  /** true when this re-subscribes after a reconnect. */
  resumed: boolean;
}

export interface Subscription {
  readonly topic: string;
  /** The last seq seen (per partition on topics with several); undefined before the subscription is made. */
  readonly position: Position | undefined;
  /** Resolves when the server first confirms the subscription; rejects if it refuses it. */
  readonly ready: Promise<SubscribedDetail>;
  unsubscribe(): void;
}

export class SwitchboardError extends Error {
  /** A code of the error catalog (`forbidden`, `rate_limited`, `unauthenticated`, …) or `timeout`, `overloaded`, `closed`, `token`. */
  readonly code: string;
  readonly topic?: string;
  readonly closeCode?: number;
  constructor(code: string, message?: string, details?: Record<string, unknown>);
}

export interface ClientEventMap {
  statechange: CustomEvent<{ state: State; previous: State; [key: string]: unknown }>;
  connected: CustomEvent<{ session: string; pingInterval: number; resumed: { topic: string; after: Position }[] }>;
  subscribed: CustomEvent<SubscribedDetail>;
  reconnecting: CustomEvent<{ attempt: number; delayMs: number; reason?: string; closeCode?: number }>;
  /** The server asked this client to reconnect (shutdown, lagging). */
  reconnect: CustomEvent<{ reason: string; delayMs: number; resume: Record<string, Position> }>;
  tokenrefresh: CustomEvent<{ exp?: number; inPlace?: boolean }>;
  slowdown: CustomEvent<{ topic: string; retryAfterMs: number }>;
  error: CustomEvent<{ code: string; message: string; topic?: string; closeCode?: number }>;
  closed: CustomEvent<{ error?: SwitchboardError }>;
}

export class SwitchboardClient extends EventTarget {
  constructor(options: ClientOptions | TokenSource);
  readonly url: string;
  readonly state: State;
  /** The server's id of the current connection. */
  readonly session: string | undefined;
  /** Resolves once connected; rejects if the client closes first (e.g. token refused). */
  ready(): Promise<this>;
  subscribe<T = unknown>(topic: string, handler: (event: SwitchboardEvent<T>, subscription: Subscription) => void,
                         options?: SubscribeOptions): Subscription;
  /** Waits while disconnected; rejects with the server's error code, or `timeout` / `overloaded` / `closed`. */
  publish<T = unknown>(topic: string, event: OutgoingEvent<T>, options?: { timeoutMs?: number }): Promise<Published>;
  /**
   * Follows one workflow run's answer on its output topic: subscribes from `options.after` (default 0)
   * and unsubscribes when the run ends or the answer is closed. Several answers on one topic share one
   * subscription (a later one gets the run's events already received, up to the last 10,000 ai.* events);
   * the topic must not be subscribed by subscribe() on this client.
   */
  answer(topic: string, options: AnswerOptions): AnswerStream;
  close(): void;
  addEventListener<K extends keyof ClientEventMap>(type: K, listener: (event: ClientEventMap[K]) => void,
                                                   options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof ClientEventMap>(type: K, listener: (event: ClientEventMap[K]) => void,
                                                      options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}

export interface AnswerOptions {
  /** The run's id (the events' correlationid). This or `cause` is required. */
  run?: string;
  /** The id of the event that triggered the run (the events' causationid), e.g. the question you published. */
  cause?: string;
  /** Only this step's tokens (default: every model step's, in the order their first token came). */
  step?: string;
  /** With client.answer(): where to read the topic from (default 0: everything retained). */
  after?: Position;
}

/**
 * One run's answer assembled from its ai.* events: the latest attempt of each model step, retracted
 * attempts dropped, each event counted once. Iterate it for the text so far each time it changes.
 */
export class AnswerStream implements AsyncIterable<string> {
  constructor(options: AnswerOptions);
  /** The run's id (learnt from its first event when it was named by `cause`). */
  readonly run: string | undefined;
  /** The answer so far; once completed, the run's answer when it is text. */
  readonly text: string;
  readonly ended: boolean;
  /** ai.completed's answer, once there. */
  readonly answer: unknown;
  readonly error: SwitchboardError | undefined;
  /** Resolves with ai.completed's answer; rejects on ai.failed (code step_failed, cancelled, unwatched, …). */
  readonly done: Promise<unknown>;
  /** Takes one event of the output topic; returns whether it belonged to this run. */
  accept(event: SwitchboardEvent): boolean;
  fail(error: SwitchboardError): void;
  /** Stops following (unsubscribes when made by client.answer()). */
  close(): void;
  [Symbol.asyncIterator](): AsyncIterator<string>;
}

/** Opens a client; it connects at once and keeps reconnecting until close() (or a refused token). */
export function connect(options: ClientOptions | TokenSource): SwitchboardClient;

/** The `exp` (seconds since the epoch) of a JWT, read without verifying it. */
export function tokenExpiry(token: string): number | undefined;
