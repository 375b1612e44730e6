// The demo page's script: everything it does goes through the SDK (/sdk/switchboard.js).
import { connect, SwitchboardError } from "/sdk/switchboard.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const ttlSeconds = Number(params.get("ttl") || 600);
// The form's defaults (tenant demo, topic demo.chat) can come from the address instead, as in
// /?tenant=acme&topic=chat.room-1&user=bob.
for (const field of ["tenant", "user", "topic"]) {
  if (params.get(field)) {
    $(field).value = params.get(field);
  }
}
let client = null;
let subscription = null;

function log(text, kind = "") {
  const li = document.createElement("li");
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  li.className = kind;
  $("log").append(li);
  li.scrollIntoView({ block: "nearest" });
}

function buttons() {
  const open = client !== null;
  $("connect").disabled = open;
  $("disconnect").disabled = !open;
  $("subscribe").disabled = !open || subscription !== null;
  $("unsubscribe").disabled = !open || subscription === null;
  $("publish").disabled = !open;
  $("ask").disabled = !open;
}

async function devToken() {
  const response = await fetch("/dev/token", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ tenant: $("tenant").value, sub: $("user").value, subscribe: [">"], publish: [">"], ttlSeconds }),
  });
  if (!response.ok) {
    // A problem+json body says why (an unknown tenant, a bad pattern): show its detail as it is.
    const problem = await response.json().catch(() => ({}));
    const status = response.status;
    throw new SwitchboardError(problem.code || "token",
      `POST /dev/token answered ${status}: ${problem.detail || problem.title || response.statusText}`,
      // Asking again cannot fix a 4xx, except a timeout or a rate limit: the SDK then stops retrying.
      { status, retryable: !(status >= 400 && status < 500 && status !== 408 && status !== 429) });
  }
  return (await response.json()).token;
}

function problem(text) {
  $("problem").textContent = text;
}

// The question being answered, kept across a reload: {tenant, user, trigger, question, cause}.
const ASK_KEY = "switchboard.demo.ask";
let answering = null;

function showAnswer(ask) {
  if (answering) {
    answering.close();
  }
  $("question").value = ask.question;
  $("pipeline").value = ask.trigger;
  $("answer-state").textContent = "streaming";
  const answer = answering = client.answer("demo.answers", { cause: ask.cause, after: 0 });
  (async () => {
    for await (const text of answer) {
      if (answer === answering) {
        $("answer").textContent = text;
      }
    }
    if (answer !== answering || answer.answer === undefined) {
      return; // replaced by another question, or closed: not an answer yet
    }
    $("answer-state").textContent = "complete";
    $("answer").dataset.complete = "true";
    sessionStorage.removeItem(ASK_KEY);
    log(`answer complete (run ${answer.run})`);
  })().catch((e) => {
    if (answer !== answering) {
      return;
    }
    $("answer-state").textContent = `failed: ${e.code}`;
    sessionStorage.removeItem(ASK_KEY);
    log(`answer failed: ${e.code} ${e.message}`, "error");
  });
}

$("ask").onclick = async () => {
  const ask = { tenant: $("tenant").value, user: $("user").value, trigger: $("pipeline").value,
    // randomUUID needs a secure context (https, localhost, 127.0.0.1); a page opened over plain http elsewhere lacks it.
    question: $("question").value, cause: crypto.randomUUID ? crypto.randomUUID() : `q-${Date.now()}-${Math.random().toString(16).slice(2)}` };
  sessionStorage.setItem(ASK_KEY, JSON.stringify(ask));
  $("answer").textContent = "";
  delete $("answer").dataset.complete;
  try {
    // The event's id is the run's cause: the answer's events carry it as their causationid.
    const reply = await client.publish(ask.trigger, { id: ask.cause, type: "demo.question", data: { text: ask.question } });
    log(`asked on ${ask.trigger}: seq ${reply.seq}`);
    showAnswer(ask);
  } catch (e) {
    sessionStorage.removeItem(ASK_KEY);
    log(`asking failed: ${e.code} ${e.message}`, "error");
  }
};

$("connect").onclick = () => {
  const pasted = $("token").value.trim();
  problem("");
  client = connect({ token: pasted || devToken });
  window.switchboardDemo = { client };
  client.addEventListener("statechange", (e) => {
    $("state").textContent = e.detail.state;
    $("state").dataset.state = e.detail.state;
  });
  client.addEventListener("connected", (e) => {
    problem("");
    log(`connected, session ${e.detail.session}`);
  });
  client.addEventListener("reconnecting", (e) =>
    log(`reconnecting in ${e.detail.delayMs} ms (${e.detail.reason || "closed"}${e.detail.closeCode ? " " + e.detail.closeCode : ""})`));
  client.addEventListener("reconnect", (e) => log(`server asked to reconnect (${e.detail.reason}) in ${e.detail.delayMs} ms`));
  client.addEventListener("tokenrefresh", () => log("token refreshed"));
  client.addEventListener("subscribed", (e) => {
    const { topic, after, head, resumed } = e.detail;
    const where = typeof after === "object" && after !== null ? JSON.stringify(after) : after;
    log(resumed ? `resumed ${topic} after ${where}` : `subscribed to ${topic} (head ${JSON.stringify(head)})`, resumed ? "resumed" : "");
  });
  client.addEventListener("error", (e) => {
    if (!e.detail.topic) {
      problem(e.detail.message);
    }
    log(`error ${e.detail.code}: ${e.detail.message}`, "error");
  });
  client.addEventListener("closed", (e) => {
    if (e.detail.error) {
      problem(`${e.detail.error.message} (not retried: fix it and connect again)`);
    }
    log(e.detail.error ? `closed: ${e.detail.error.message}` : "closed", e.detail.error ? "error" : "");
    client = null;
    subscription = null;
    buttons();
  });
  buttons();
};

$("disconnect").onclick = () => client && client.close();

$("subscribe").onclick = () => {
  const topic = $("topic").value;
  subscription = client.subscribe(topic, (event) => {
    const li = document.createElement("li");
    li.value = event.seq;
    li.dataset.seq = event.seq;
    li.dataset.partition = event.partition;
    const data = event.data && typeof event.data === "object" ? event.data : { text: event.data };
    li.textContent = `#${event.seq} p${event.partition} ${data.user ? data.user + ": " : ""}${data.text ?? JSON.stringify(event.data)}`;
    $("events").append(li);
    li.scrollIntoView({ block: "nearest" });
  }, { after: 0, onError: () => { subscription = null; buttons(); } });
  buttons();
};

$("unsubscribe").onclick = () => {
  subscription.unsubscribe();
  log(`unsubscribed from ${subscription.topic}`);
  subscription = null;
  buttons();
};

$("publish").onclick = async () => {
  const topic = $("topic").value;
  try {
    const reply = await client.publish(topic, { type: "demo.message", data: { user: $("user").value, text: $("message").value } });
    log(`published to ${topic}: seq ${reply.seq}${reply.duplicate ? " (duplicate)" : ""}`);
  } catch (e) {
    log(`publish failed: ${e.code} ${e.message}`, "error");
  }
};

buttons();

// A question that was being answered when the page was reloaded: connect as before and show its answer again.
const pending = sessionStorage.getItem(ASK_KEY);
if (pending) {
  const ask = JSON.parse(pending);
  $("tenant").value = ask.tenant;
  $("user").value = ask.user;
  $("connect").click();
  log("resuming the answer to your question");
  showAnswer(ask);
}
