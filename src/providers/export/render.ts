/**
 * Spec documents → YAML text, the way the example fleet is written: the editor modeline first, then the document
 * with multi-line strings (and always `system`) as literal block scalars (`|`), nothing folded.
 */
import { Document, isPair, isScalar, Scalar, visit } from "yaml";
import type { ExportKind, SpecDocument } from "./types.js";

/** Where each kind's files go (relative to the output directory) and the schema their modeline names. */
export const LAYOUT: Record<ExportKind, { folder: string; schema: string }> = {
  Agent: { folder: "agents", schema: "agent.schema.json" },
  Environment: { folder: "environments", schema: "environment.schema.json" },
  McpToolset: { folder: "toolsets", schema: "mcp-toolset.schema.json" },
  Vault: { folder: "vaults", schema: "vault.schema.json" },
  MemoryStore: { folder: "memory-stores", schema: "memory-store.schema.json" },
  Tunnel: { folder: "tunnels", schema: "tunnel.schema.json" },
  Skill: { folder: "skills", schema: "skill.schema.json" },
  Deployment: { folder: "deployments", schema: "deployment.schema.json" },
};

/** The file a spec of `kind` named `name` is written to, relative to the output directory (POSIX separators). */
export function specFile(kind: ExportKind, name: string): string {
  return `${LAYOUT[kind].folder}/${name}.yaml`;
}

/**
 * The YAML text of one spec file: `# yaml-language-server: $schema=<schemaDir>/<kind>.schema.json` (`schemaDir`:
 * the path from the file's folder to a `schemas/` folder; default `../schemas`), then the
 * document. Strings keep their exact value (the `yaml` library falls back to a quoted scalar where a block scalar
 * cannot hold a string exactly, such as trailing spaces on the last line).
 */
export function renderSpec(kind: ExportKind, document: SpecDocument, schemaDir = "../schemas"): string {
  const doc = new Document(document);
  visit(doc, {
    Pair(_, pair) {
      if (!isPair(pair) || !isScalar(pair.value) || typeof pair.value.value !== "string") return;
      const text = pair.value.value;
      const key = isScalar(pair.key) ? pair.key.value : pair.key;
      if (text.includes("\n") || (key === "system" && text !== "")) pair.value.type = Scalar.BLOCK_LITERAL;
    },
    Scalar(_, node) {
      if (typeof node.value === "string" && node.value.includes("\n")) node.type = Scalar.BLOCK_LITERAL;
    },
  });
  const body = doc.toString({ lineWidth: 0, blockQuote: "literal" });
  return `# yaml-language-server: $schema=${schemaDir}/${LAYOUT[kind].schema}\n${body}`;
}
