/**
 * Resolution of `Tunnel` specs and of the `tunnel:` form of `McpToolset` specs (issue 11 item 4). `resolve.ts`
 * dispatches here; the rules of the kind live in this module only.
 */
import { atPath, type DataPath, locate } from "./position.js";
import { didYouMean } from "./suggest.js";
import type { ResolvedTunnel, SpecError, ToolsetTunnel } from "./types.js";
import type { ValidatedSpec } from "./validate.js";

type TunnelDoc = Extract<ValidatedSpec, { kind: "Tunnel" }>;
type ToolsetDoc = Extract<ValidatedSpec, { kind: "McpToolset" }>;

function errorAt(spec: ValidatedSpec, path: DataPath, message: string, at: "key" | "value" = "value"): SpecError {
  return {
    location: locate(spec.document, path, at),
    kind: spec.kind,
    name: spec.spec.name,
    message: atPath(path, message),
  };
}

/**
 * A `Tunnel` spec resolved: `display_name` defaults to the spec name, `on_prune` is `archive`. Errors (located):
 * `on_prune: delete` (the Tunnels API has no delete: SDK `client.beta.tunnels` offers archive only).
 */
export function resolveTunnel(spec: TunnelDoc): { value?: ResolvedTunnel; errors: SpecError[] } {
  const s = spec.spec;
  const errors: SpecError[] = [];
  if (s.on_prune === "delete") {
    errors.push(
      errorAt(
        spec,
        ["on_prune"],
        "cannot be `delete`: the API cannot delete a tunnel, only archive it (irreversibly); remove `on_prune` or write `archive`",
      ),
    );
  }
  return {
    errors,
    value: {
      kind: "Tunnel",
      name: s.name,
      display_name: s.display_name ?? s.name,
      protect: s.protect ?? false,
      on_prune: "archive",
      previous_names: [...(s.previous_names ?? [])],
      source: spec.document.location,
    },
  };
}

/** What `toolsetTunnel` found: the tunnel form, or `skip` when it names an invalid Tunnel (reported there). */
export type ToolsetTunnelOutcome = { tunnel?: ToolsetTunnel; skip?: true; errors: SpecError[] };

/**
 * The tunnel form of an `McpToolset` (`tunnel`, `host`, `path`), when it uses it. The schema guarantees that `tunnel`
 * and `url` do not come together and that `host` comes with `tunnel`. Errors: neither `url` nor `tunnel` (at the
 * document; the schema cannot say it without a message that would cover its other errors too), a `tunnel` no Tunnel
 * spec declares (at `tunnel`, with "did you mean"). A name of a Tunnel that exists but is invalid gives `skip` without an error
 * (the Tunnel's own error says what is wrong).
 * @param declared every Tunnel name the repository declares, valid or not
 * @param invalid the names of Tunnel specs that are invalid
 */
export function toolsetTunnel(
  spec: ToolsetDoc,
  declared: ReadonlySet<string>,
  invalid: ReadonlySet<string>,
): ToolsetTunnelOutcome {
  const s = spec.spec;
  if (s.tunnel === undefined && s.url === undefined) {
    const message = "needs `url` (the MCP server's URL), or `tunnel` and `host` for a server behind a Tunnel";
    return { errors: [errorAt(spec, [], message)] };
  }
  if (s.tunnel === undefined) return { errors: [] };
  if (invalid.has(s.tunnel)) return { skip: true, errors: [] };
  if (!declared.has(s.tunnel)) {
    return { errors: [errorAt(spec, ["tunnel"], `unknown Tunnel "${s.tunnel}"${didYouMean(s.tunnel, declared)}`)] };
  }
  return { tunnel: { name: s.tunnel, host: s.host ?? "", path: s.path ?? "" }, errors: [] };
}
