/**
 * The App server's log: one JSON object per line (`time`, `level`, `event`, fields), with every known secret and
 * anything shaped like a GitHub token, an App JWT, a PEM block or a `token=` query parameter replaced by
 * `[redacted]`, so an error message that quotes a URL or a header cannot leak a credential.
 */

/** Replaces secrets in `text`: each of `secrets` (literal), GitHub tokens, JWTs, PEM blocks, token query params. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 8) out = out.split(secret).join("[redacted]");
  return out
    .replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, "[redacted]")
    .replace(/\b(gh[pousr]_[A-Za-z0-9_]{16,}|github_pat_[A-Za-z0-9_]{20,}|v1\.[0-9a-f]{40})\b/g, "[redacted]")
    .replace(/\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, "[redacted]")
    .replace(/([?&](?:token|access_token|jwt|client_secret)=)[^&\s"']+/gi, "$1[redacted]")
    .replace(/((?:token|bearer)\s+)[A-Za-z0-9_.-]{20,}/gi, "$1[redacted]");
}

/** A structured logger: `log(event, fields)` writes one redacted JSON line. */
export type AppLog = (event: string, fields?: Record<string, unknown>) => void;

/**
 * A logger writing JSON lines to `write`, with `secrets` (the webhook secret, the private key) redacted from every
 * line. An `error` field holding an Error is logged as its message only (no stack, no request options: octokit's
 * errors carry the request headers).
 */
export function jsonLog(
  write: (line: string) => void,
  secrets: readonly string[],
  now: () => Date = () => new Date(),
): AppLog {
  // Secrets are matched in the JSON text, so their JSON-escaped forms (quotes, line breaks) are searched too.
  const escaped = [...new Set(secrets.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))];
  return (event, fields = {}) => {
    const plain: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(fields)) {
      plain[key] = value instanceof Error ? value.message : value;
    }
    // The reserved fields come last, so a field of the same name cannot forge them.
    Object.assign(plain, { time: now().toISOString(), level: "error" in fields ? "error" : "info", event });
    write(`${redact(JSON.stringify(plain), escaped)}\n`);
  };
}
