/**
 * Where the CLI writes: results on stdout, diagnostics and progress on stderr, colour only for a terminal and never
 * under NO_COLOR (https://no-color.org) or `--no-color`.
 */

/** The CLI's output streams and colour decision. */
export interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Colour for stdout. */
  color: boolean;
}

/** The process's output, with colour when stdout is a terminal, NO_COLOR is unset and `color` was not turned off. */
export function processOutput(color = true): Output {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    color: color && process.stdout.isTTY === true && !process.env.NO_COLOR,
  };
}
