import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["conformance.test.mjs"],
    // The suite's own per-test timeouts where it sets them; vitest's 5 s elsewhere, as the suite's CLI runs it.
    testTimeout: 5000,
  },
})
