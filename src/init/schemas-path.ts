/**
 * Where the installed package's JSON Schemas are, for the `yaml-language-server` modelines that `init` and `export`
 * write: a relative path from a spec's folder into the package (in a user's repository,
 * `../node_modules/reconcile-agents/schemas`), so the modelines resolve in editors without a published URL.
 */
import { relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** The `schemas/` folder of the running package (`dist/init/` → `schemas/`; `src/init/` when run from source). */
export const PACKAGE_SCHEMAS = fileURLToPath(new URL("../../schemas", import.meta.url));

/** The path from folder `from` to the package's `schemas/` folder (or `schemas`), with `/` separators. */
export function schemasPathFrom(from: string, schemas: string = PACKAGE_SCHEMAS): string {
  return relative(from, schemas).split(sep).join("/");
}
