/**
 * Where the CLI writes: results on stdout, diagnostics and progress on stderr. Colour for a terminal, or when
 * `FORCE_COLOR` asks for it with stdout piped (CI logs; the convention of Node.js and chalk/supports-color:
 * `FORCE_COLOR` set to anything but `0` or `false`); never under NO_COLOR (https://no-color.org, which wins over
 * FORCE_COLOR) or `--no-color`.
 */

/** The CLI's output streams and colour decision. */
export interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Colour for stdout. */
  color: boolean;
}

/**
 * Whether to colour stdout: never with `flag` off (`--no-color`) or a non-empty `NO_COLOR`; else, when `FORCE_COLOR`
 * is set, unless it is `0` or `false` (so `FORCE_COLOR=0` turns colour off even on a terminal; `""` and `1`..`3` turn
 * it on, as in supports-color); else when stdout is a terminal.
 */
export function wantsColor(flag: boolean, env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  if (!flag || (env.NO_COLOR !== undefined && env.NO_COLOR !== "")) return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== "0" && force.toLowerCase() !== "false";
  return isTTY;
}

/** The process's output, coloured as `wantsColor` decides for the process's environment and stdout. */
export function processOutput(color = true): Output {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    color: wantsColor(color, process.env, process.stdout.isTTY === true),
  };
}
