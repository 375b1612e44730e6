// The Durable Streams reference server for bench/durable-streams.sh, on 127.0.0.1 only.
// Usage: node server.mjs [data-dir]   — with a folder: file mode (each append fsynced); without: memory mode.
// Prints DS_BASE_URL=http://127.0.0.1:<port> once listening.
import { DurableStreamTestServer } from "@durable-streams/server"

const dataDir = process.argv[2]
const server = new DurableStreamTestServer({ host: "127.0.0.1", port: 0, longPollTimeout: 15000, ...(dataDir ? { dataDir } : {}) })
const url = await server.start()
console.log(`DS_BASE_URL=${url}`)
const stop = async () => {
  await server.stop()
  process.exit(0)
}
process.on("SIGINT", stop)
process.on("SIGTERM", stop)
