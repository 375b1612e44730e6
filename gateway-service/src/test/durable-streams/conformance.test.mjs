// The suite's own CLI hands vitest a file under node_modules, which vitest excludes; this file runs it instead.
import { runConformanceTests } from "@durable-streams/server-conformance-tests"
runConformanceTests({ baseUrl: process.env.CONFORMANCE_TEST_URL, longPollTimeoutMs: Number(process.env.CONFORMANCE_LONG_POLL_MS ?? 20000) })
