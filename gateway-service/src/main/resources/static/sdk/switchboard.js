// Switchboard browser SDK: one dependency-free ES module (types: ./switchboard.d.ts).
//
//   import { connect } from "/sdk/switchboard.js";
//   const client = connect({ token: async () => (await fetch("/my/token")).text() });
//   const sub = client.subscribe("chat.room-1", (event) => console.log(event.seq, event.data));
//   const { seq } = await client.publish("chat.room-1", { type: "chat.message", data: { text: "hi" } });
//   const answer = client.answer("chat.room-1", { cause: questionId, after: 0 }); // a workflow run's answer
//   for await (const text of answer) render(text);   // the answer so far, each time it changes
//   const final = await answer.done;                 // ai.completed's answer (rejects on ai.failed)
//
// What it does for you (the WebSocket contract is in docs/protocol.md):
// - reconnects with capped, jittered exponential backoff; honours the server's `reconnect` frames
//   (their `delayMs` and `resume` points); after a restart the server announced (`reconnect` with
//   reason `shutdown`, or close 1012) it keeps trying at a short interval for a while, so that it is
//   back within about a second of the platform;
// - re-subscribes every topic after a reconnect with `after` = the last seq seen (per partition on
//   topics with several partitions), and drops any event at or below that point, so each handler
//   sees every event once, in seq order;
// - with a token callback, fetches a fresh token before the current one's `exp` and hands it to the
//   open connection (a `connect` frame on a connected socket refreshes it in place: no reconnect,
//   no replay); if the server refuses the refresh it reconnects with the new token instead; after a
//   close 4001 it fetches one more token and tries once more;
// - pings at the `pingInterval` the server announces and treats a connection that stays silent for
//   a whole interval after a ping as dead;
// - publishes made while disconnected wait (bounded by `maxPendingPublishes` and `publishTimeoutMs`)
//   and are sent after the reconnect. Each publish carries an event `id` (generated when absent), so
//   one that was in flight when the connection broke is sent again safely: the server deduplicates it
//   and answers with the original seq (`duplicate: true`).
// It never reconnects after close 4001 (beyond the one retry) or 4003, nor after close(), nor when
// the token callback fails with an error whose `retryable` is false (any other failure is retried).

const DEFAULTS = Object.freeze({
  reconnectDelayMs: 250,
  maxReconnectDelayMs: 30000,
  restartRetryDelayMs: 1000,
  restartRetryWindowMs: 60000,
  connectTimeoutMs: 10000,
  publishTimeoutMs: 30000,
  maxPendingPublishes: 1000,
  maxFrameBytes: 128 * 1024,
  tokenRefreshMarginMs: 60000,
});

/** States a client goes through: connecting → connected → (reconnecting → connected)* → closed. */
export const States = Object.freeze({
  CONNECTING: "connecting",
  CONNECTED: "connected",
  RECONNECTING: "reconnecting",
  CLOSED: "closed",
});

/** An error the server reported (`code` from the error catalog) or one the SDK raised (`timeout`, `closed`, `overloaded`). */
export class SwitchboardError extends Error {
  constructor(code, message, details = {}) {
    super(message || code);
    this.name = "SwitchboardError";
    this.code = code;
    Object.assign(this, details);
  }
}

/** Opens a client; it connects at once and stays connected until close(). */
export function connect(options) {
  return new SwitchboardClient(options);
}

/** A JWT's claims, read but never verified (the server verifies); {} when unreadable. */
function claims(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = JSON.parse(atob(payload + "=".repeat((4 - (payload.length % 4)) % 4)));
    return json && typeof json === "object" ? json : {};
  } catch {
    return {};
  }
}

/** Seconds since the epoch of a JWT's `exp`, or undefined. */
export function tokenExpiry(token) {
  const exp = claims(token).exp;
  return typeof exp === "number" ? exp : undefined;
}

function defaultUrl() {
  const url = new URL("/v1/ws", import.meta.url);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

function randomId() {
  if (globalThis.crypto && typeof crypto.randomUUID === "function") {
    return crypto.randomUUID();
  }
  // crypto.randomUUID exists only in secure contexts; getRandomValues everywhere.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A position as the wire has it (a seq, or {"<partition>": seq}) → Map<partition, seq>. */
function toPositions(value) {
  const map = new Map();
  if (typeof value === "number") {
    map.set(0, value);
  } else if (value && typeof value === "object") {
    for (const [p, seq] of Object.entries(value)) {
      map.set(Number(p), seq);
    }
  }
  return map;
}

/** A subscription: its handler, and the last seq it saw per partition. */
class Subscription {
  constructor(client, topic, handler, options) {
    this._client = client;
    this.topic = topic;
    this._handler = handler;
    this._initialAfter = options.after;
    this._onError = options.onError;
    /** partition → last seq seen (or the start point before any). */
    this._positions = new Map();
    this._multi = options.after !== undefined && options.after !== null && typeof options.after === "object";
    this._active = true;
    this._readyDone = false;
    this.ready = new Promise((resolve, reject) => {
      this._resolveReady = resolve;
      this._rejectReady = reject;
    });
    // A failed subscription that nobody awaits is reported through the "error" event instead.
    this.ready.catch(() => {});
  }

  /** The last seq seen: a number on a topic with one partition, else {"<partition>": seq}; undefined before any. */
  get position() {
    if (this._positions.size === 0) {
      return undefined;
    }
    if (!this._multi && this._positions.size === 1 && this._positions.has(0)) {
      return this._positions.get(0);
    }
    return Object.fromEntries([...this._positions].sort((a, b) => a[0] - b[0]));
  }

  /** `after` for the next subscribe frame: where we stand, else what the caller asked for. */
  _after() {
    const position = this.position;
    return position !== undefined ? position : this._initialAfter;
  }

  unsubscribe() {
    if (this._active) {
      this._active = false;
      this._client._unsubscribe(this);
    }
  }
}

export class SwitchboardClient extends EventTarget {
  constructor(options = {}) {
    super();
    if (typeof options === "string" || typeof options === "function") {
      options = { token: options };
    }
    if (typeof options.token !== "string" && typeof options.token !== "function") {
      throw new TypeError("connect() needs a token: a JWT string or an async function returning one");
    }
    this.options = { ...DEFAULTS, ...options };
    this.url = options.url || defaultUrl();
    /** "connecting" | "connected" | "reconnecting" | "closed" */
    this.state = States.CONNECTING;
    /** The server's session id of the current connection. */
    this.session = undefined;
    this._subs = new Map(); // topic → Subscription
    this._pending = []; // publishes not yet sent on the current connection, in order
    this._inflight = new Map(); // frame id → publish, sent on the current connection
    this._requests = new Map(); // frame id → subscribe/unsubscribe/ping request of the current connection
    this._nextId = 1;
    this._attempt = 0;
    this._restartUntil = 0; // while Date.now() is below: a restart was announced, retry at the short interval
    this._token = typeof options.token === "string" ? options.token : undefined;
    this._authRetried = false;
    this._conn = null;
    this._timers = new Set();
    this._openSocket();
  }

  /** Resolves when connected (at once if already); rejects if the client closes first. */
  ready() {
    if (this.state === States.CONNECTED) {
      return Promise.resolve(this);
    }
    if (this.state === States.CLOSED) {
      return Promise.reject(this._closeError || new SwitchboardError("closed", "The client is closed."));
    }
    return new Promise((resolve, reject) => {
      const listener = () => {
        if (this.state === States.CONNECTED) {
          this.removeEventListener("statechange", listener);
          resolve(this);
        } else if (this.state === States.CLOSED) {
          this.removeEventListener("statechange", listener);
          reject(this._closeError || new SwitchboardError("closed", "The client is closed."));
        }
      };
      this.addEventListener("statechange", listener);
    });
  }

  /**
   * Subscribes to a topic. `handler(event, subscription)` gets each CloudEvent once, in seq order
   * per partition. `options.after`: a seq (or {"<partition>": seq}) to replay from; omitted = new
   * events only. Returns the subscription; `subscription.unsubscribe()` ends it.
   */
  subscribe(topic, handler, options = {}) {
    if (this.state === States.CLOSED) {
      throw new SwitchboardError("closed", "The client is closed.");
    }
    if (typeof handler !== "function") {
      throw new TypeError("subscribe() needs a handler function");
    }
    if (this._subs.has(topic)) {
      throw new SwitchboardError("conflict", `Already subscribed to '${topic}'.`);
    }
    const sub = new Subscription(this, topic, handler, options);
    this._subs.set(topic, sub);
    if (this.state === States.CONNECTED) {
      this._sendSubscribe(sub);
    }
    return sub;
  }

  /**
   * Publishes one event (a CloudEvent without the server's fields: `type`, `data`, optional `id`,
   * `partitionkey`, …). Resolves with the `published` reply ({seq, partition, duplicate, eventId});
   * rejects with a SwitchboardError whose `code` is the server's (`forbidden`, `rate_limited`, …),
   * or `timeout` / `overloaded` / `closed`.
   */
  publish(topic, event, options = {}) {
    if (this.state === States.CLOSED) {
      return Promise.reject(new SwitchboardError("closed", "The client is closed."));
    }
    if (this._pending.length + this._inflight.size >= this.options.maxPendingPublishes) {
      return Promise.reject(new SwitchboardError("overloaded", `More than ${this.options.maxPendingPublishes} publishes are waiting.`));
    }
    const withId = event && typeof event === "object" && event.id === undefined ? { ...event, id: randomId() } : event;
    // The server answers a frame over its limit by closing the connection (4009); resending it after
    // the reconnect would only do that again.
    const bytes = new TextEncoder().encode(JSON.stringify({ op: "publish", id: this._nextId, topic, event: withId })).length;
    if (bytes > this.options.maxFrameBytes) {
      return Promise.reject(new SwitchboardError("payload_too_large", `The publish frame has ${bytes} bytes; at most ${this.options.maxFrameBytes} are sent.`));
    }
    return new Promise((resolve, reject) => {
      const op = { topic, event: withId, resolve, reject, timer: undefined };
      const timeoutMs = options.timeoutMs ?? this.options.publishTimeoutMs;
      op.timer = setTimeout(() => {
        this._forgetPublish(op);
        reject(new SwitchboardError("timeout", `No answer to the publish on '${topic}' within ${timeoutMs} ms.`));
      }, timeoutMs);
      this._pending.push(op);
      if (this.state === States.CONNECTED) {
        this._flushPublishes();
      }
    });
  }

  /**
   * Follows one workflow run's answer on its output topic (see AnswerStream): subscribes to the topic
   * from `options.after` (default 0: everything retained, so a page reloaded mid-answer rebuilds it
   * whole) and unsubscribes when the run has ended or `answer.close()` is called. The run is named by
   * `options.run` (its id) or `options.cause` (the id of the event that triggered it). Several answers
   * on one topic share one subscription: one that joins later gets the run's events the subscription
   * already received (up to the last 10,000 `ai.*` events), so it misses nothing either. The topic
   * must not be subscribed on this client otherwise; feed an AnswerStream from your own handler then.
   */
  answer(topic, options = {}) {
    const stream = new AnswerStream(options);
    const after = options.after ?? 0;
    this._answers = this._answers || new Map();
    let shared = this._answers.get(topic);
    if (shared && (shared.trimmed || typeof after !== "number" || typeof shared.after !== "number" || after < shared.after)) {
      throw new SwitchboardError("conflict", `Answers on '${topic}' already follow it from ${JSON.stringify(shared.after)}, `
        + `and what came before ${JSON.stringify(after)} is no longer kept: close them first.`);
    }
    if (!shared) {
      shared = { after, streams: new Set(), events: [], trimmed: false, sub: null };
      const done = () => {
        if (shared.streams.size === 0 && this._answers.get(topic) === shared) {
          this._answers.delete(topic);
          shared.sub.unsubscribe();
        }
      };
      shared.done = done;
      shared.sub = this.subscribe(topic, (event) => {
        if (!String(event.type).startsWith("ai.")) {
          return;
        }
        shared.events.push(event);
        if (shared.events.length > AnswerStream.KEPT) {
          shared.events.shift();
          shared.trimmed = true;
        }
        for (const s of [...shared.streams]) {
          s.accept(event);
          if (s.ended) {
            shared.streams.delete(s);
          }
        }
        done();
      }, { after, onError: (error) => {
        this._answers.delete(topic);
        [...shared.streams].forEach((s) => s.fail(error));
      } });
      this._answers.set(topic, shared);
    } else {
      // Joining: the events of this run the subscription has already received.
      for (const event of shared.events) {
        stream.accept(event);
      }
    }
    if (!stream.ended) {
      shared.streams.add(stream);
    }
    stream._onClose = () => {
      shared.streams.delete(stream);
      shared.done();
    };
    return stream;
  }

  /** Closes the connection for good; waiting publishes are rejected with code `closed`. */
  close() {
    if (this.state === States.CLOSED) {
      return;
    }
    this._shutdown(undefined);
  }

  // ---- connection lifecycle ----

  async _openSocket() {
    const conn = { ws: null, connectId: 0, pingTimer: undefined, lastFrameAt: 0, pingSentAt: 0, dead: false };
    this._conn = conn;
    let token;
    try {
      token = await this._currentToken();
    } catch (e) {
      if (this._conn !== conn || this.state === States.CLOSED) {
        return;
      }
      const message = `The token callback failed: ${e && e.message ? e.message : e}`;
      this._emit("error", { code: "token", message });
      if (e && e.retryable === false) {
        // The callback knows a retry cannot help (say, its backend answered 404 for the tenant).
        this._shutdown(new SwitchboardError("token", message, { cause: e }));
        return;
      }
      this._scheduleReconnect(undefined, "token");
      return;
    }
    if (this._conn !== conn || this.state === States.CLOSED) {
      return;
    }
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (e) {
      this._emit("error", { code: "invalid_request", message: `Cannot open ${this.url}: ${e.message}` });
      this._shutdown(new SwitchboardError("invalid_request", e.message));
      return;
    }
    conn.ws = ws;
    conn.token = token;
    const connectTimer = this._after(this.options.connectTimeoutMs, () => {
      if (this._conn === conn && this.state !== States.CONNECTED) {
        this._drop(conn, undefined, "connect timeout");
      }
    });
    ws.onopen = () => {
      if (this._conn !== conn) {
        return;
      }
      conn.connectId = this._nextId++;
      this._sendRaw(conn, { op: "connect", id: conn.connectId, token });
    };
    ws.onmessage = (message) => {
      if (this._conn !== conn) {
        return;
      }
      conn.lastFrameAt = Date.now();
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      if (frame.op === "connected") {
        this._clearTimer(connectTimer);
      }
      this._onFrame(conn, frame);
    };
    ws.onclose = (e) => {
      this._clearTimer(connectTimer);
      if (this._conn === conn) {
        this._onClose(conn, e.code, e.reason);
      }
    };
    ws.onerror = () => {
      // Always followed by onclose, which decides what happens next.
    };
  }

  async _currentToken() {
    const source = this.options.token;
    if (typeof source === "string") {
      return source;
    }
    const exp = this._token ? tokenExpiry(this._token) : undefined;
    const fresh = this._token && (exp === undefined || exp * 1000 - Date.now() > this._refreshMargin(this._token));
    if (!fresh) {
      const token = await source();
      if (typeof token !== "string" || token.length === 0) {
        throw new Error("the token callback returned no token");
      }
      this._token = token;
      this._tokenFetchedAt = Date.now();
    }
    return this._token;
  }

  /** How long before `exp` a token is replaced: a fifth of its lifetime, at most tokenRefreshMarginMs. */
  _refreshMargin(token) {
    const { exp, iat } = claims(token);
    if (typeof exp !== "number") {
      return 0;
    }
    const issued = typeof iat === "number" ? iat * 1000 : this._tokenFetchedAt ?? Date.now();
    return Math.min(this.options.tokenRefreshMarginMs, Math.max(0, (exp * 1000 - issued) / 5));
  }

  _onFrame(conn, frame) {
    switch (frame.op) {
      case "connected":
        if (this._requests.get(frame.id)?.op === "refresh") {
          return this._onRefreshed(conn, frame);
        }
        return this._onConnected(conn, frame);
      case "event":
        return this._onEvent(frame);
      case "subscribed":
        return this._onSubscribed(frame);
      case "unsubscribed":
        this._requests.delete(frame.id);
        return;
      case "published":
        return this._onPublished(frame);
      case "pong":
        this._requests.delete(frame.id);
        conn.pingSentAt = 0;
        return;
      case "error":
        return this._onError(conn, frame);
      case "slow_down":
        this._emit("slowdown", { topic: frame.topic, retryAfterMs: frame.retryAfterMs });
        return;
      case "reconnect":
        return this._onReconnectFrame(conn, frame);
      default:
        return;
    }
  }

  _onConnected(conn, frame) {
    this._attempt = 0;
    this._restartUntil = 0;
    this._authRetried = false;
    this.session = frame.session;
    const resumed = [];
    for (const sub of this._subs.values()) {
      const after = sub._after();
      if (sub._positions.size > 0) {
        resumed.push({ topic: sub.topic, after });
      }
    }
    this._setState(States.CONNECTED, { session: frame.session });
    this._emit("connected", { session: frame.session, pingInterval: frame.pingInterval, resumed });
    for (const sub of this._subs.values()) {
      this._sendSubscribe(sub);
    }
    this._flushPublishes();
    this._startPings(conn, (frame.pingInterval || 25) * 1000);
    this._scheduleTokenRefresh(conn);
  }

  _onClose(conn, closeCode, reason) {
    this._stopConn(conn);
    if (this.state === States.CLOSED) {
      return;
    }
    // The error frame before the close says why, even when the browser reports the close itself as
    // abnormal (1006) rather than with the server's code.
    const refused = conn.connectError && conn.connectError.code;
    const code = refused === "unauthenticated" ? 4001 : refused === "forbidden" ? 4003 : closeCode;
    if (code === 4001) {
      if (typeof this.options.token === "function" && !this._authRetried) {
        // The token may have expired or been revoked meanwhile: one more try with a fresh one.
        this._authRetried = true;
        this._token = undefined;
        this._setState(States.RECONNECTING, { code, reason });
        this._openSocket();
        return;
      }
      const error = new SwitchboardError("unauthenticated", conn.connectError?.message || "The token was refused (close 4001).", { closeCode: code });
      this._emit("error", { code: "unauthenticated", message: error.message, closeCode: code });
      this._shutdown(error);
      return;
    }
    if (code === 4003) {
      const error = new SwitchboardError("forbidden", conn.connectError?.message || "Forbidden (close 4003).", { closeCode: code });
      this._emit("error", { code: "forbidden", message: error.message, closeCode: code });
      this._shutdown(error);
      return;
    }
    if (conn.connectError) {
      // Refused for now (connection quota 4029, registry unavailable 1013): back off and try again.
      this._emit("error", { ...conn.connectError, closeCode });
    }
    if (closeCode === 1012) {
      this._restarting();
    }
    if (conn.reconnectFrame) {
      const { delayMs, reason: why } = conn.reconnectFrame;
      this._scheduleReconnect(delayMs, why, closeCode);
      return;
    }
    this._scheduleReconnect(undefined, reason || "closed", closeCode);
  }

  /** Gives up on a connection (dead, timed out, token refresh): detach it and reconnect. */
  _drop(conn, delayMs, why) {
    if (this._conn !== conn) {
      return;
    }
    this._stopConn(conn);
    try {
      conn.ws && conn.ws.close(1000, why);
    } catch {
      // already closing
    }
    // A dead TCP connection may take minutes to report its close: do not wait for it.
    this._conn = null;
    this._scheduleReconnect(delayMs, why);
  }

  _stopConn(conn) {
    conn.dead = true;
    clearInterval(conn.pingTimer);
    this._clearTimer(conn.refreshTimer);
    // Requests of the old connection will never be answered; publishes in flight go back to the
    // front of the queue (same event id, so a resend is deduplicated by the server).
    this._requests.clear();
    const inflight = [...this._inflight.values()];
    this._inflight.clear();
    this._pending.unshift(...inflight);
    this.session = undefined;
  }

  _scheduleReconnect(delayMs, reason, code) {
    if (this.state === States.CLOSED) {
      return;
    }
    const { reconnectDelayMs, maxReconnectDelayMs, restartRetryDelayMs } = this.options;
    const restarting = Date.now() < this._restartUntil;
    if (this._restartUntil && !restarting) {
      // The announced restart takes longer than the window: back off as usual, from twice the short interval on.
      this._restartUntil = 0;
      const from = reconnectDelayMs > 0 ? Math.ceil(Math.log2(Math.max(1, (2 * restartRetryDelayMs) / reconnectDelayMs))) : 0;
      this._attempt = Math.max(this._attempt, from);
    }
    // The attempts of a restart window do not count towards the backoff.
    const attempt = restarting ? this._attempt : this._attempt++;
    let delay = delayMs;
    if (delay === undefined && restarting) {
      // Jittered (±50 %) so that a gateway's clients do not all come back in the same instant.
      delay = Math.round(restartRetryDelayMs / 2 + Math.random() * restartRetryDelayMs);
    } else if (delay === undefined) {
      const ceiling = Math.min(maxReconnectDelayMs, reconnectDelayMs * 2 ** Math.min(attempt, 20));
      delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    }
    this._conn = null;
    this._setState(States.RECONNECTING, { code, reason, delayMs: delay });
    this._emit("reconnecting", { attempt: attempt + 1, delayMs: delay, reason, closeCode: code });
    this._after(delay, () => {
      if (this.state !== States.CLOSED && this._conn === null) {
        this._openSocket();
      }
    });
  }

  _shutdown(error) {
    this._closeError = error;
    const conn = this._conn;
    this._conn = null;
    if (conn) {
      this._stopConn(conn);
      try {
        conn.ws && conn.ws.close(1000, "client closed");
      } catch {
        // already closing
      }
    }
    for (const timer of this._timers) {
      clearTimeout(timer);
    }
    this._timers.clear();
    const failure = error || new SwitchboardError("closed", "The client is closed.");
    for (const op of this._pending) {
      clearTimeout(op.timer);
      op.reject(failure);
    }
    this._pending = [];
    for (const sub of this._subs.values()) {
      if (!sub._readyDone) {
        sub._rejectReady(failure);
      }
    }
    this._setState(States.CLOSED, { error });
    this._emit("closed", { error });
  }

  // ---- pings and token refresh ----

  _startPings(conn, intervalMs) {
    conn.pingTimer = setInterval(() => {
      if (this._conn !== conn) {
        clearInterval(conn.pingTimer);
        return;
      }
      // A ping unanswered for a whole interval, with nothing else heard meanwhile: the connection is dead.
      if (conn.pingSentAt && conn.lastFrameAt <= conn.pingSentAt) {
        this._emit("error", { code: "timeout", message: `No pong within ${intervalMs} ms: reconnecting.` });
        this._drop(conn, undefined, "ping timeout");
        return;
      }
      const id = this._nextId++;
      this._requests.set(id, { op: "ping" });
      conn.pingSentAt = Date.now();
      this._sendRaw(conn, { op: "ping", id });
    }, intervalMs);
  }

  _scheduleTokenRefresh(conn) {
    if (typeof this.options.token !== "function" || !conn.token) {
      return;
    }
    const exp = tokenExpiry(conn.token);
    if (exp === undefined) {
      return;
    }
    const wait = Math.max(0, exp * 1000 - Date.now() - this._refreshMargin(conn.token));
    conn.refreshTimer = this._after(wait, async () => {
      if (this._conn !== conn) {
        return;
      }
      try {
        const token = await this.options.token();
        if (typeof token !== "string" || token.length === 0) {
          throw new Error("the token callback returned no token");
        }
        this._token = token;
        this._tokenFetchedAt = Date.now();
      } catch (e) {
        this._emit("error", { code: "token", message: `The token callback failed: ${e && e.message ? e.message : e}` });
        return;
      }
      if (this._conn === conn) {
        // A connect frame on a connected socket refreshes its token in place (docs/protocol.md).
        const id = this._nextId++;
        this._requests.set(id, { op: "refresh", token: this._token });
        this._sendRaw(conn, { op: "connect", id, token: this._token });
      }
    });
  }

  _onRefreshed(conn, frame) {
    const request = this._requests.get(frame.id);
    this._requests.delete(frame.id);
    if (this._conn !== conn) {
      return;
    }
    conn.token = request.token;
    this._emit("tokenrefresh", { exp: tokenExpiry(request.token), inPlace: true });
    this._scheduleTokenRefresh(conn);
  }

  // ---- subscriptions ----

  _sendSubscribe(sub) {
    const conn = this._conn;
    if (!conn || !sub._active) {
      return;
    }
    const id = this._nextId++;
    const after = sub._after();
    this._requests.set(id, { op: "subscribe", sub, after });
    const frame = { op: "subscribe", id, topic: sub.topic };
    if (after !== undefined && after !== null) {
      frame.after = after;
    }
    this._sendRaw(conn, frame);
  }

  _onSubscribed(frame) {
    const request = this._requests.get(frame.id);
    this._requests.delete(frame.id);
    const sub = request && request.sub;
    if (!sub || this._subs.get(sub.topic) !== sub) {
      return;
    }
    const head = toPositions(frame.head);
    if (typeof frame.head === "object" && frame.head !== null) {
      sub._multi = true;
    }
    const after = request.after;
    const resumed = sub._positions.size > 0;
    // Where the stream starts, as the server computes it: `after` (a partition it leaves out: 0), else the head.
    for (const [p, seq] of head) {
      if (!sub._positions.has(p)) {
        const start = after === undefined || after === null ? seq : typeof after === "number" ? after : (after[p] ?? 0);
        sub._positions.set(p, start);
      }
    }
    const detail = { topic: sub.topic, head: frame.head, after, resumed };
    if (!sub._readyDone) {
      sub._readyDone = true;
      sub._resolveReady(detail);
    }
    this._emit("subscribed", detail);
  }

  _onEvent(frame) {
    const sub = this._subs.get(frame.topic);
    const event = frame.event;
    if (!sub || !sub._active || !event) {
      return;
    }
    const partition = event.partition ?? 0;
    const last = sub._positions.get(partition);
    if (last !== undefined && event.seq <= last) {
      return; // seen already (a replay overlapping what arrived before)
    }
    sub._positions.set(partition, event.seq);
    try {
      sub._handler(event, sub);
    } catch (e) {
      // A throwing handler must not break the connection or the other subscriptions.
      setTimeout(() => {
        throw e;
      });
    }
  }

  _unsubscribe(sub) {
    if (this._subs.get(sub.topic) !== sub) {
      return;
    }
    this._subs.delete(sub.topic);
    const conn = this._conn;
    if (conn && this.state === States.CONNECTED) {
      const id = this._nextId++;
      this._requests.set(id, { op: "unsubscribe", sub });
      this._sendRaw(conn, { op: "unsubscribe", id, topic: sub.topic });
    }
  }

  // ---- publishes ----

  _flushPublishes() {
    const conn = this._conn;
    while (conn && this.state === States.CONNECTED && this._pending.length > 0) {
      const op = this._pending.shift();
      const id = this._nextId++;
      op.id = id;
      this._inflight.set(id, op);
      this._sendRaw(conn, { op: "publish", id, topic: op.topic, event: op.event });
    }
  }

  _forgetPublish(op) {
    const i = this._pending.indexOf(op);
    if (i >= 0) {
      this._pending.splice(i, 1);
    }
    if (op.id !== undefined && this._inflight.get(op.id) === op) {
      this._inflight.delete(op.id);
    }
  }

  _onPublished(frame) {
    const op = this._inflight.get(frame.id);
    if (!op) {
      return;
    }
    this._inflight.delete(frame.id);
    clearTimeout(op.timer);
    const { op: _, id: __, ...reply } = frame;
    op.resolve(reply);
  }

  _onError(conn, frame) {
    const error = new SwitchboardError(frame.code, frame.message, { topic: frame.topic });
    const publish = frame.id !== undefined ? this._inflight.get(frame.id) : undefined;
    if (publish) {
      this._inflight.delete(frame.id);
      clearTimeout(publish.timer);
      publish.reject(error);
      return;
    }
    const request = frame.id !== undefined ? this._requests.get(frame.id) : undefined;
    if (request) {
      this._requests.delete(frame.id);
    }
    if (request && request.op === "refresh") {
      // Refused in place (say, another subject): the old token still holds; reconnect with the new one.
      this._emit("error", { code: frame.code, message: `Token refresh refused: ${frame.message}` });
      this._drop(conn, 0, "token refresh");
      return;
    }
    if ((frame.id !== undefined && frame.id === conn.connectId) || (this.state !== States.CONNECTED && frame.id === undefined)) {
      conn.connectError = { code: frame.code, message: frame.message }; // reported with the close that follows
      return;
    }
    // A refused subscribe, or (no request, a topic) a subscription the server ended.
    const sub = request ? (request.op === "subscribe" ? request.sub : undefined) : frame.topic ? this._subs.get(frame.topic) : undefined;
    if (sub && this._subs.get(sub.topic) === sub) {
      if (frame.code === "unavailable" && this._conn === conn) {
        // The server could not serve the subscription right now: try again from where we stand.
        this._emit("error", { code: frame.code, message: frame.message, topic: sub.topic });
        this._after(this.options.reconnectDelayMs * 4, () => {
          if (this._conn === conn && this.state === States.CONNECTED && this._subs.get(sub.topic) === sub) {
            this._sendSubscribe(sub);
          }
        });
        return;
      }
      this._subs.delete(sub.topic);
      sub._active = false;
      if (!sub._readyDone) {
        sub._readyDone = true;
        sub._rejectReady(error);
      }
      if (sub._onError) {
        sub._onError(error);
      }
      this._emit("error", { code: frame.code, message: frame.message, topic: sub.topic });
      return;
    }
    this._emit("error", { code: frame.code, message: frame.message, topic: frame.topic });
  }

  /**
   * The server announced a restart: for restartRetryWindowMs, failed attempts are retried after about
   * restartRetryDelayMs rather than after an ever longer backoff, so that the client is back within
   * about that long of the platform, however long the platform took. Starts once per announcement.
   */
  _restarting() {
    if (this._restartUntil === 0 && this.options.restartRetryWindowMs > 0) {
      this._restartUntil = Date.now() + this.options.restartRetryWindowMs;
    }
  }

  _onReconnectFrame(conn, frame) {
    conn.reconnectFrame = { delayMs: Math.max(0, frame.delayMs || 0), reason: frame.reason };
    if (frame.reason === "shutdown") {
      this._restarting();
    }
    for (const [topic, value] of Object.entries(frame.resume || {})) {
      const sub = this._subs.get(topic);
      if (!sub) {
        continue;
      }
      if (typeof value === "object" && value !== null) {
        sub._multi = true;
      }
      for (const [p, seq] of toPositions(value)) {
        const mine = sub._positions.get(p);
        sub._positions.set(p, mine === undefined ? seq : Math.max(mine, seq));
      }
    }
    this._emit("reconnect", { reason: frame.reason, delayMs: frame.delayMs, resume: frame.resume });
    // The server closes right after this frame; no need to wait for its close handshake.
    this._drop(conn, conn.reconnectFrame.delayMs, frame.reason);
  }

  // ---- plumbing ----

  _sendRaw(conn, frame) {
    if (conn.ws && conn.ws.readyState === WebSocket.OPEN) {
      conn.ws.send(JSON.stringify(frame));
    }
  }

  _after(ms, fn) {
    const timer = setTimeout(() => {
      this._timers.delete(timer);
      fn();
    }, ms);
    this._timers.add(timer);
    return timer;
  }

  _clearTimer(timer) {
    if (timer !== undefined) {
      clearTimeout(timer);
      this._timers.delete(timer);
    }
  }

  _setState(state, detail = {}) {
    const previous = this.state;
    this.state = state;
    if (previous !== state) {
      this._emit("statechange", { state, previous, ...detail });
      if (typeof this.options.onStateChange === "function") {
        this.options.onStateChange(state, previous, detail);
      }
    }
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

/**
 * Assembles one workflow run's answer from the events on its output topic (docs/protocol.md, "Runs"):
 * `ai.token` events of each model step's latest attempt, in index order; an attempt named by
 * `ai.retracted` is dropped, with any of its tokens that arrive later; `ai.completed` gives the final
 * answer, `ai.failed` the error. Events of other runs are ignored, and an event seen twice counts once.
 *
 * `text` is the answer so far: while it streams, the tokens of each model step (the steps in the order
 * their first token came, joined by a blank line — or only `options.step`'s); once completed, the
 * run's answer when it is text. Iterating the stream (`for await`) yields `text` each time it changes
 * and ends when the run completes (it throws the error when the run fails). `done` resolves with the
 * answer of `ai.completed` and rejects with a SwitchboardError (code `step_failed`, `cancelled`,
 * `unwatched`, …) on `ai.failed`.
 */
export class AnswerStream {
  /** How many `ai.*` events client.answer() keeps per topic for answers that join later. */
  static KEPT = 10000;

  constructor(options = {}) {
    if (!options.run && !options.cause) {
      throw new TypeError("An answer needs options.run (the run's id) or options.cause (its trigger event's id)");
    }
    this.options = options;
    this.run = options.run;
    this.ended = false;
    this.answer = undefined;
    this.error = undefined;
    this._ids = new Set();
    this._steps = new Map(); // step -> { attempt, tokens: Map(index -> text) }
    this._order = [];
    this._retracted = new Set();
    this._version = 0;
    this._wake = [];
    this._onClose = undefined;
    this.done = new Promise((resolve, reject) => {
      this._resolve = resolve;
      this._reject = reject;
    });
    // Awaiting `done` is optional: a failure is also thrown to the iterator.
    this.done.catch(() => {});
  }

  /** Takes one event of the topic; returns whether it belonged to this run. */
  accept(event) {
    if (this.ended || !event || typeof event !== "object") {
      return false;
    }
    const data = event.data && typeof event.data === "object" ? event.data : {};
    const mine = this.run ? event.correlationid === this.run || data.run === this.run : event.causationid === this.options.cause;
    if (!mine || !String(event.type).startsWith("ai.") || this._ids.has(event.id)) {
      return false;
    }
    this._ids.add(event.id);
    this.run = this.run || data.run || event.correlationid;
    switch (event.type) {
      case "ai.token": {
        const key = `${data.step}/${data.attempt}`;
        if (this._retracted.has(key) || (this.options.step && data.step !== this.options.step)) {
          break;
        }
        let step = this._steps.get(data.step);
        if (!step || data.attempt > step.attempt) {
          step = { attempt: data.attempt, tokens: new Map() };
          this._steps.set(data.step, step);
        }
        if (data.attempt === step.attempt) {
          step.tokens.set(data.index, String(data.text ?? ""));
          if (!this._order.includes(data.step)) {
            this._order.push(data.step);
          }
        }
        break;
      }
      case "ai.retracted": {
        this._retracted.add(`${data.step}/${data.attempt}`);
        const step = this._steps.get(data.step);
        if (step && step.attempt === data.attempt) {
          this._steps.delete(data.step);
        }
        break;
      }
      case "ai.completed":
        this.answer = data.answer;
        this._end();
        this._resolve(data.answer);
        break;
      case "ai.failed":
        this.fail(new SwitchboardError(data.error || "failed", data.detail || `The run failed (${data.error}).`, { run: this.run }));
        return true;
      default:
        return true;
    }
    this._changed();
    return true;
  }

  /** The answer so far (see the class comment). */
  get text() {
    if (this.ended && !this.error && typeof this.answer === "string" && !this.options.step) {
      return this.answer;
    }
    return this._order
      .filter((step) => this._steps.has(step))
      .map((step) => [...this._steps.get(step).tokens.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]).join(""))
      .join("\n\n");
  }

  /** Ends the stream with an error (the run failed, or its subscription was refused). */
  fail(error) {
    if (this.ended) {
      return;
    }
    this.error = error;
    this._end();
    this._reject(error);
    this._changed();
  }

  /** Stops following the run (unsubscribes); iteration ends, `done` stays pending. */
  close() {
    if (!this.ended) {
      this._end();
      this._changed();
    }
  }

  _end() {
    this.ended = true;
    if (this._onClose) {
      this._onClose();
      this._onClose = undefined;
    }
  }

  _changed() {
    this._version++;
    const waiting = this._wake;
    this._wake = [];
    waiting.forEach((wake) => wake());
  }

  async *[Symbol.asyncIterator]() {
    let seen = 0;
    let last;
    while (true) {
      if (this._version === seen) {
        if (this.ended) {
          break;
        }
        await new Promise((wake) => this._wake.push(wake));
        continue;
      }
      seen = this._version;
      const text = this.text;
      if (text !== last) {
        last = text;
        yield text;
      }
    }
    if (this.error) {
      throw this.error;
    }
  }
}
