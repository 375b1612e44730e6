// A Vercel AI SDK app on Switchboard, as @durable-streams/aisdk-transport's README builds one: its chat
// route writes a streamed answer (UI message chunks) into a Switchboard stream with the tenant's API key
// and answers with a read URL; the browser side (createDurableChatTransport) reads the answer back as it
// is written, then once more after a "reload" through the reconnect route. The read URL points at the
// app's read proxy, which adds the key, as the transport reads without credentials of its own.
// Usage: GATEWAY=http://127.0.0.1:8080 KEY=sb_... node aisdk-roundtrip.mjs   → prints one JSON line.
import http from "node:http"
import { createDurableChatTransport, toDurableStreamResponse } from "@durable-streams/aisdk-transport"

const gateway = process.env.GATEWAY
const key = process.env.KEY
const words = "Streamed through Switchboard and read back exactly once".split(" ")
const sent = [
  { type: "start", messageId: "m-1" },
  { type: "text-start", id: "t-1" },
  ...words.map((w, i) => ({ type: "text-delta", id: "t-1", delta: (i === 0 ? "" : " ") + w })),
  { type: "text-end", id: "t-1" },
  { type: "finish" },
]
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function listen(server) {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${server.address().port}`)))
}

// The app's read proxy: GET /v1/stream/... on the gateway, with the key added; the answer passed through as it comes.
const proxy = http.createServer(async (req, res) => {
  const upstream = await fetch(gateway + req.url, { headers: { authorization: `Bearer ${key}`, accept: req.headers.accept ?? "*/*" } })
  const headers = {}
  upstream.headers.forEach((value, name) => {
    if (!["content-length", "transfer-encoding", "connection", "content-encoding"].includes(name)) headers[name] = value
  })
  res.writeHead(upstream.status, headers)
  if (upstream.body) {
    for await (const chunk of upstream.body) res.write(chunk)
  }
  res.end()
})
const proxyUrl = await listen(proxy)

const streamPath = `/v1/stream/chats/c-${Date.now()}/generation-1`
const app = http.createServer(async (req, res) => {
  if (req.method === "POST" && req.url === "/api/chat") {
    for await (const _ of req) { /* the messages: this app answers the same thing to all */ }
    async function* model() {
      for (const chunk of sent) {
        await sleep(15)
        yield chunk
      }
    }
    const answer = await toDurableStreamResponse({
      source: model(),
      stream: { writeUrl: gateway + streamPath, readUrl: proxyUrl + streamPath, headers: { Authorization: `Bearer ${key}` } },
    })
    res.writeHead(answer.status, { location: answer.headers.get("location"), "content-type": "application/json" })
    res.end(await answer.text())
  } else if (req.method === "GET" && req.url === "/api/chat/c-1/stream") {
    res.writeHead(200, { location: proxyUrl + streamPath, "content-type": "application/json" })
    res.end(JSON.stringify({ streamUrl: proxyUrl + streamPath }))
  } else {
    res.writeHead(404).end()
  }
})
const appUrl = await listen(app)

async function all(readable) {
  const chunks = []
  const reader = readable.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return chunks
    chunks.push(value)
  }
}

const transport = createDurableChatTransport({ api: `${appUrl}/api/chat` })
const live = await all(await transport.sendMessages({
  trigger: "submit-message",
  chatId: "c-1",
  messageId: undefined,
  messages: [{ id: "u-1", role: "user", parts: [{ type: "text", text: "Say something durable" }] }],
  abortSignal: undefined,
}))
const resumed = await all(await transport.reconnectToStream({ chatId: "c-1" }))
const same = (a) => JSON.stringify(a) === JSON.stringify(sent)
console.log(JSON.stringify({ sent: sent.length, live: live.length, resumed: resumed.length, liveSame: same(live), resumedSame: same(resumed),
  text: live.filter((c) => c.type === "text-delta").map((c) => c.delta).join("") }))
proxy.close()
app.close()
process.exit(same(live) && same(resumed) ? 0 : 1)
