/**
 * The pipeline host of the CLI, shared by the Actions mode (`reconcile github plan|apply`) and the App mode
 * (`reconcile github serve`), in its own module so neither command imports the other.
 */
import type { PipelineHost } from "../github/pipeline.js";
import { escapeControl } from "../reconcile/escape.js";
import { renderPlanText } from "../reconcile/render-text.js";
import { withApiLock } from "./apply-lock.js";
import { applyPrepared } from "./commands/apply.js";
import { connect } from "./connect.js";
import { reportError } from "./errors.js";
import type { Output } from "./output.js";

/** What the host reads from the command's flags. */
export interface HostFlags {
  /** The longest wait for one API request, in milliseconds. */
  timeout?: number;
  insecureBaseUrl?: boolean;
  /** How long an apply waits for the stack's lock, in milliseconds (default 0). */
  lockTimeout?: number;
}

/** A signal that never aborts. */
const NEVER = new AbortController().signal;

/**
 * The CLI's pipeline host (`PipelineHost`, src/github/pipeline.ts): `connect` per target (the target's API key and
 * base URL from its environment variables), the API apply lock for applies (ADR 8), the `reconcile apply` path.
 * Used by `github plan`, `github apply` and `github serve`; log lines and errors go to `output.err`.
 */
export function cliHost(flags: HostFlags, output: Output): PipelineHost {
  return {
    log: (text) => output.err(escapeControl(text, { keepNewlines: true })),
    reportError: (error) => {
      reportError(error, output);
    },
    open: async (project, lock, body) => {
      const connection = await connect({
        root: project.root,
        local: false,
        target: project.target,
        defaultTarget: project.config.default_target,
        warn: output.err,
        ...(flags.timeout ? { timeoutMs: flags.timeout } : {}),
        insecureBaseUrl: flags.insecureBaseUrl === true,
      });
      try {
        const run = { client: connection.client, secrets: connection.secrets };
        if (!lock) return await body({ ...run, signal: NEVER });
        let value: Awaited<ReturnType<typeof body>> | undefined;
        const request = { operation: "github apply", timeoutMs: flags.lockTimeout ?? 0 };
        await withApiLock(connection.client, project, request, output, async (signal) => {
          value = await body({ ...run, signal });
          return 0;
        });
        return value as Awaited<ReturnType<typeof body>>;
      } finally {
        await connection.close();
      }
    },
    apply: (prepared, run) => applyPrepared(prepared, {}, output, run.client, run.signal),
    showPlan: (prepared) => output.out(renderPlanText(prepared.plan, { color: output.color })),
  };
}
