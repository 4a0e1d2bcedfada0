import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { SCHEMA_DIR } from "../../src/spec/validate.js";
import { FIXTURE_ROOT } from "./helpers.js";

type Schema = Record<string, unknown>;

async function schemas(): Promise<Map<string, Schema>> {
  const out = new Map<string, Schema>();
  for (const file of (await readdir(SCHEMA_DIR)).sort()) {
    if (file.endsWith(".schema.json")) out.set(file, JSON.parse(await readFile(path.join(SCHEMA_DIR, file), "utf8")));
  }
  return out;
}

/** Paths of properties (and of the schema itself) that editors would show without a description. */
function undocumented(schema: Schema, at: string, out: string[]): string[] {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  for (const [name, property] of Object.entries(properties)) {
    const described = typeof property.description === "string" || typeof property.$ref === "string";
    if (!described) out.push(`${at}/properties/${name}`);
    undocumented(property, `${at}/properties/${name}`, out);
  }
  for (const [key, value] of Object.entries(schema)) {
    if (key === "properties") continue;
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) if (isSchema(v)) undocumented(v, `${at}/${key}/${i}`, out);
    } else if (key === "$defs")
      for (const [n, d] of Object.entries(value as Record<string, Schema>)) undocumented(d, `${at}/$defs/${n}`, out);
    else if (isSchema(value) && ["items", "additionalProperties", "not"].includes(key))
      undocumented(value, `${at}/${key}`, out);
  }
  return out;
}

function isSchema(value: unknown): value is Schema {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

describe("schemas/", () => {
  test("each schema has an $id, a title and a description, and every field is described", async () => {
    for (const [file, schema] of await schemas()) {
      expect(schema.$id, file).toBe(`https://reconcile.dev/schemas/v1/${file}`);
      expect(typeof schema.title, file).toBe("string");
      expect(typeof schema.description, file).toBe("string");
      expect(undocumented(schema, file, []), file).toEqual([]);
    }
  });

  test("spec.schema.json dispatches on kind: the whole fleet passes, a bad document of each kind fails", async () => {
    const ajv = new Ajv2020({ allErrors: true, discriminator: true });
    addFormats.default(ajv);
    ajv.addVocabulary(["errorMessage", "patternErrorMessage", "tsType"]);
    ajv.addSchema([...(await schemas()).values()]);
    const validate = ajv.getSchema("https://reconcile.dev/schemas/v1/spec.schema.json");
    if (!validate) throw new Error("spec.schema.json did not compile");

    for (const dir of ["agents", "environments", "memory-stores", "skills", "toolsets", "vaults"]) {
      for (const file of (await readdir(path.join(FIXTURE_ROOT, dir))).filter((f) => f.endsWith(".yaml"))) {
        const doc = parse(await readFile(path.join(FIXTURE_ROOT, dir, file), "utf8"));
        expect(validate(doc), `${dir}/${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
      }
    }
    const base = { apiVersion: "reconcile/v1", name: "x" };
    for (const kind of ["Agent", "Environment", "McpToolset", "MemoryStore", "Skill", "Vault"]) {
      expect(validate({ ...base, kind, unknown_field: 1 }), kind).toBe(false);
    }
    expect(validate({ ...base, kind: "Robot" })).toBe(false);
  });
});
