/**
 * Real webhook payloads from `@octokit/webhooks-examples` (the examples GitHub's docs publish), for tests, and a
 * way to deliver them to a server with a real `X-Hub-Signature-256` (HMAC-SHA256, made by `@octokit/webhooks`' own `sign`).
 */
import { createRequire } from "node:module";
import { Webhooks } from "@octokit/webhooks";

interface Definition {
  name: string;
  examples: Array<Record<string, unknown>>;
}

const definitions = createRequire(import.meta.url)(
  "@octokit/webhooks-examples/api.github.com/index.json",
) as Definition[];

/**
 * A deep copy of the first example of `event` (with `action`, when given) that carries an installation, so handlers
 * get an installation-authenticated client as in production.
 * @throws Error when the package has no such example
 */
export function example(event: string, action?: string): Record<string, unknown> {
  const found = definitions
    .find((d) => d.name === event)
    ?.examples.find((e) => (action === undefined || e.action === action) && e.installation);
  if (!found) throw new Error(`no ${event}${action ? `.${action}` : ""} example with an installation`);
  return structuredClone(found);
}

/**
 * A deep copy of the first example of `event` that `match` accepts (with or without an installation), for Actions
 * event files.
 * @throws Error when the package has no such example
 */
export function anyExample(event: string, match: (e: Record<string, unknown>) => boolean): Record<string, unknown> {
  const found = definitions.find((d) => d.name === event)?.examples.find(match);
  if (!found) throw new Error(`no matching ${event} example`);
  return structuredClone(found);
}

/** What a delivery answered. */
export interface Delivered {
  status: number;
  body: string;
}

/**
 * POSTs `payload` to `url` as GitHub does: JSON body, `X-GitHub-Event`, `X-GitHub-Delivery`, and the signature made
 * with `secret` (or `signature` as given, or none when null).
 */
export async function deliver(
  url: string,
  event: string,
  payload: unknown,
  options: { secret: string; delivery: string; signature?: string | null },
): Promise<Delivered> {
  const body = JSON.stringify(payload);
  const signature =
    options.signature === undefined ? await new Webhooks({ secret: options.secret }).sign(body) : options.signature;
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": options.delivery,
      "user-agent": "GitHub-Hookshot/test",
      ...(signature === null ? {} : { "x-hub-signature-256": signature }),
    },
    body,
  });
  return { status: response.status, body: await response.text() };
}
