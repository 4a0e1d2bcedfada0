/**
 * `reconcile init`: scaffolds a new repository (issue 10, item 3) with `reconcile.yaml`, one spec of each kind whose
 * `yaml-language-server` modelines point at the schemas of the installed package (so they resolve in editors), a
 * `.gitignore` entry for `.reconcile/` (the local emulator's state and locks), and a minimal CI workflow.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { PACKAGE_SCHEMAS, schemasPathFrom } from "./schemas-path.js";
import { CONFIG_TEMPLATE, GITIGNORE_ENTRY, SPEC_TEMPLATES, WORKFLOW_TEMPLATE } from "./templates.js";

/** The stack id rule of `schemas/project.schema.json` (lower-case letters, digits and dashes, at most 63). */
const STACK = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Where the workflow goes. */
export const WORKFLOW_FILE = ".github/workflows/reconcile.yml";

/** Thrown when `init` would overwrite something or the stack name is unusable; nothing was written. */
export class InitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InitError";
  }
}

/** Options of `initRepository`. */
export interface InitOptions {
  /** The new repository's root (created if missing). */
  dir: string;
  /** The stack id; default: derived from the directory's name (`stackFromDirName`). */
  stack?: string;
  /** The package's `schemas/` folder the modelines point at (default `PACKAGE_SCHEMAS`). */
  schemas?: string;
}

/** What `initRepository` did, paths relative to the root with `/`. */
export interface InitResult {
  stack: string;
  written: string[];
  /** Existing files left as they were (the workflow, when one is there). */
  kept: string[];
  gitignore: "created" | "added" | "present";
}

/** A stack id from a directory name: lower-cased, other characters as dashes, trimmed to 63; `agents` if nothing is left. */
export function stackFromDirName(name: string): string {
  const id = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return id === "" ? "agents" : id;
}

/**
 * Writes the scaffold into `options.dir`. Refuses, writing nothing, when `reconcile.yaml` or any spec file it would
 * write exists, or when the stack is not a valid stack id. An existing workflow file is kept; `.gitignore` gets the
 * `.reconcile/` line unless it has it.
 * @throws InitError saying what is in the way
 */
export async function initRepository(options: InitOptions): Promise<InitResult> {
  const root = resolve(options.dir);
  const stack = options.stack ?? stackFromDirName(basename(root));
  if (!STACK.test(stack)) {
    throw new InitError(
      `"${stack}" is not a valid stack id (lower-case letters, digits and dashes, at most 63 characters): pass --stack NAME`,
    );
  }
  const schemas = options.schemas ?? PACKAGE_SCHEMAS;
  const files = [
    { path: "reconcile.yaml", text: CONFIG_TEMPLATE.replaceAll("{{STACK}}", stack) },
    ...SPEC_TEMPLATES,
  ].map((f) => ({
    path: f.path,
    text: f.text.replaceAll("{{SCHEMAS}}", schemasPathFrom(dirname(join(root, f.path)), schemas)),
  }));
  const inTheWay = files.filter((f) => existsSync(join(root, f.path))).map((f) => f.path);
  if (inTheWay.length > 0) {
    throw new InitError(
      inTheWay.includes("reconcile.yaml")
        ? `${root} already has a reconcile.yaml: it is a reconcile repository already; nothing was written`
        : `these files already exist in ${root}: ${inTheWay.join(", ")}; move them away or init another directory; nothing was written`,
    );
  }
  const written: string[] = [];
  for (const f of files) {
    await mkdir(dirname(join(root, f.path)), { recursive: true });
    await writeFile(join(root, f.path), f.text, { flag: "wx" });
    written.push(f.path);
  }
  const kept: string[] = [];
  const workflow = join(root, WORKFLOW_FILE);
  if (existsSync(workflow)) kept.push(WORKFLOW_FILE);
  else {
    await mkdir(dirname(workflow), { recursive: true });
    await writeFile(workflow, WORKFLOW_TEMPLATE, { flag: "wx" });
    written.push(WORKFLOW_FILE);
  }
  return { stack, written, kept, gitignore: await ignoreState(root) };
}

/** Adds `.reconcile/` to the root's `.gitignore` (creating it) unless a line already ignores it. */
async function ignoreState(root: string): Promise<InitResult["gitignore"]> {
  const file = join(root, ".gitignore");
  const text = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return null;
    throw e;
  });
  if (text === null) {
    await writeFile(file, `${GITIGNORE_ENTRY}\n`);
    return "created";
  }
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  if (lines.some((l) => [".reconcile", ".reconcile/", "/.reconcile", "/.reconcile/"].includes(l))) return "present";
  await writeFile(file, `${text}${text === "" || text.endsWith("\n") ? "" : "\n"}${GITIGNORE_ENTRY}\n`);
  return "added";
}
