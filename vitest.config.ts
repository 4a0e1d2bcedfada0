import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

// Most test files wait on child processes (the CLI) and loopback servers, not on their own CPU: vitest's default of
// one worker per core minus one runs them one at a time on a 2-core CI machine. Two files per core keeps both busy.
const workers = Math.max(2, availableParallelism() * 2 - 1);

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    maxWorkers: workers,
    // reconcile's cache directory (the parse cache, ADR 27) for this run, not the user's (~/.cache/reconcile).
    env: { RECONCILE_CACHE_DIR: join(tmpdir(), "reconcile-test-cache") },
  },
});
