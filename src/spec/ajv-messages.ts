import type { AnySchemaObject, ErrorObject } from "ajv/dist/2020.js";
import { atPath, type DataPath } from "./position.js";
import { didYouMean } from "./suggest.js";

/** One human-readable problem, located by a data path (`at: "key"` points at the field name rather than its value). */
export interface Problem {
  path: DataPath;
  at: "key" | "value";
  message: string;
}

/** Resolves a `$ref` of the schema being validated (for the branches of a discriminated union). */
export type RefResolver = (ref: string) => AnySchemaObject | undefined;

/**
 * Schema keywords that replace ajv's message with the schema author's, as the YAML and JSON language servers do:
 * `errorMessage` for any error of that schema, `patternErrorMessage` for a `pattern` error.
 */
interface MessageAnnotations {
  errorMessage?: unknown;
  patternErrorMessage?: unknown;
}

type AjvError = ErrorObject<string, Record<string, unknown>, unknown>;

/**
 * Turns ajv's errors (ajv 2020 with `allErrors`, `verbose` and `discriminator` on) into messages a platform engineer
 * reads without knowing JSON Schema: unknown fields are named and located at their key, with a "did you mean";
 * missing fields are named at the object; enums list their values; a union (`anyOf`/`oneOf`) reports only the
 * errors of the alternative that fits the value's type, or one "must be X or Y" line; discriminated unions are
 * checked by their tag (see `discriminator` in the schemas), so only the selected branch speaks.
 *
 * Values are quoted only for enum-like and list fields; secret fields carry an `errorMessage`, so a literal secret
 * never reaches a message.
 */
export function describeAjvErrors(errors: readonly AjvError[], data: unknown, resolveRef: RefResolver): Problem[] {
  const items: Array<{ error: AjvError; problem?: Problem }> = [];
  for (const error of errors) {
    if (error.keyword === "propertyNames") continue; // its sub-errors carry `propertyName`
    if ((error.keyword === "anyOf" || error.keyword === "oneOf") && !isDiscriminated(error)) {
      const branches: typeof items = [];
      while (items.length > 0 && within(items[items.length - 1]?.error.instancePath ?? "", error.instancePath)) {
        const item = items.pop();
        if (item) branches.unshift(item);
      }
      items.push(...selectBranch(error, branches, data));
      continue;
    }
    items.push({ error });
  }
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const item of items) {
    const problem = item.problem ?? describe(item.error, data, resolveRef);
    const key = `${problem.path.join("/")}|${problem.at}|${problem.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(problem);
    }
  }
  return problems;
}

function isDiscriminated(error: AjvError): boolean {
  return typeof (error.parentSchema as AnySchemaObject | undefined)?.discriminator === "object";
}

function within(path: string, ancestor: string): boolean {
  return path === ancestor || path.startsWith(`${ancestor}/`);
}

/**
 * For a failed union: its `errorMessage` if it has one; otherwise the errors of the alternatives whose type fits the
 * value (type mismatches at the union's own path are dropped); otherwise one line listing the accepted types.
 */
function selectBranch(
  union: AjvError,
  branches: Array<{ error: AjvError; problem?: Problem }>,
  data: unknown,
): Array<{ error: AjvError; problem?: Problem }> {
  const path = parsePointer(union.instancePath, data);
  const annotations = union.parentSchema as MessageAnnotations | undefined;
  if (typeof annotations?.errorMessage === "string") {
    return [{ error: union, problem: { path, at: "value", message: atPath(path, annotations.errorMessage) } }];
  }
  if (union.keyword === "oneOf" && Array.isArray(union.params.passingSchemas)) {
    return [{ error: union, problem: { path, at: "value", message: atPath(path, "matches more than one form") } }];
  }
  // An alternative whose type does not fit the value says nothing useful: drop its type error and every other error
  // it raised at the union's own path (identified by the schema location the errors share).
  const atUnion = (b: { error: AjvError }) => b.error.instancePath === union.instancePath;
  const mismatched = new Set(
    branches.filter((b) => atUnion(b) && b.error.keyword === "type").map((b) => schemaLocation(b.error)),
  );
  const fitting = branches.filter((b) => !(atUnion(b) && mismatched.has(schemaLocation(b.error))));
  if (fitting.length > 0) return fitting;
  const types = [
    ...new Set(branches.filter((b) => b.error.keyword === "type").flatMap((b) => typeList(b.error.params.type))),
  ];
  const message = `must be ${orList(types.map(typeName))}, got ${valueKind(union.data)}`;
  return [{ error: union, problem: { path, at: "value", message: atPath(path, message) } }];
}

/** The schema an error comes from: its `schemaPath` without the keyword (`#/$defs/x/enum` → `#/$defs/x`). */
function schemaLocation(error: AjvError): string {
  return error.schemaPath.slice(0, error.schemaPath.lastIndexOf("/"));
}

function describe(error: AjvError, data: unknown, resolveRef: RefResolver): Problem {
  const path = parsePointer(error.instancePath, data);
  const params = error.params;
  const schema = (error.parentSchema ?? {}) as AnySchemaObject & MessageAnnotations;
  const value = error.data;

  if (typeof error.propertyName === "string") {
    // A propertyNames sub-error: about a key of a mapping, located at that key.
    const message =
      typeof schema.errorMessage === "string"
        ? schema.errorMessage
        : error.keyword === "pattern" && typeof schema.patternErrorMessage === "string"
          ? schema.patternErrorMessage
          : baseMessage(error);
    return {
      path: [...path, error.propertyName],
      at: "key",
      message: atPath(path, `key "${error.propertyName}" ${message}`),
    };
  }
  if (error.keyword === "type" && value === null) {
    return { path, at: "value", message: atPath(path, "has no value: give it one or remove the field") };
  }
  if (typeof schema.errorMessage === "string") {
    const notRequired = (schema.not as AnySchemaObject | undefined)?.required;
    if (error.keyword === "not" && Array.isArray(notRequired) && isRecord(value)) {
      const field = notRequired.find((f): f is string => typeof f === "string" && f in value);
      if (field) return { path: [...path, field], at: "key", message: atPath(path, schema.errorMessage) };
    }
    return { path, at: "value", message: atPath(path, schema.errorMessage) };
  }
  switch (error.keyword) {
    case "required":
      return { path, at: "key", message: atPath(path, `missing required field "${String(params.missingProperty)}"`) };
    case "additionalProperties": {
      const field = String(params.additionalProperty);
      const allowed = Object.keys((schema.properties as Record<string, unknown> | undefined) ?? {});
      const hint = didYouMean(field, allowed) || ` (allowed: ${allowed.join(", ")})`;
      return { path: [...path, field], at: "key", message: atPath(path, `unknown field "${field}"${hint}`) };
    }
    case "discriminator": {
      const tag = String(params.tag);
      const values = discriminatorValues(schema, tag, resolveRef);
      if (params.tagValue === undefined) {
        return {
          path,
          at: "key",
          message: atPath(path, `missing required field "${tag}" (one of ${quoteList(values)})`),
        };
      }
      const tagPath = [...path, tag];
      return { path: tagPath, at: "value", message: atPath(tagPath, mustBeOneOf(values, params.tagValue)) };
    }
    case "pattern": {
      const message = typeof schema.patternErrorMessage === "string" ? schema.patternErrorMessage : baseMessage(error);
      return { path, at: "value", message: atPath(path, message) };
    }
    case "uniqueItems": {
      const later = Math.max(Number(params.i), Number(params.j));
      const earlier = Math.min(Number(params.i), Number(params.j));
      const item = Array.isArray(value) ? value[later] : undefined;
      const what = typeof item === "string" || typeof item === "number" ? `"${item}"` : `item ${later + 1}`;
      const itemPath = [...path, later];
      return {
        path: itemPath,
        at: "value",
        message: atPath(path, `${what} is listed twice (items ${earlier + 1} and ${later + 1})`),
      };
    }
    case "not": {
      return { path, at: "value", message: atPath(path, "is not allowed here") };
    }
    default:
      return { path, at: "value", message: atPath(path, baseMessage(error)) };
  }
}

/** The message of a simple keyword error, without the field prefix. */
function baseMessage(error: AjvError): string {
  const params = error.params;
  const value = error.data;
  const limit = Number(params.limit);
  switch (error.keyword) {
    case "type": {
      const expected = typeList(params.type);
      const quote = expected.includes("string") && (typeof value === "number" || typeof value === "boolean");
      return `must be ${orList(expected.map(typeName))}, got ${valueKind(value)}${quote ? " (put it in quotes)" : ""}`;
    }
    case "enum":
      return mustBeOneOf(Array.isArray(params.allowedValues) ? params.allowedValues : [], value);
    case "const":
      return mustBeOneOf([params.allowedValue], value);
    case "format":
      return `must be ${FORMAT_NAMES[String(params.format)] ?? `a valid ${String(params.format)}`}`;
    case "minLength":
      return limit === 1 ? "must not be empty" : `must be at least ${limit} characters long`;
    case "maxLength":
      return `must be at most ${limit} characters long`;
    case "minItems":
      return limit === 1 ? "must not be an empty list" : `must have at least ${limit} items`;
    case "maxItems":
      return `has ${Array.isArray(value) ? value.length : "too many"} items; at most ${limit} are allowed`;
    case "maxProperties":
      return `has ${isRecord(value) ? Object.keys(value).length : "too many"} keys; at most ${limit} are allowed`;
    case "minimum":
      return `must be at least ${limit}`;
    case "maximum":
      return `must be at most ${limit}`;
    case "pattern":
      return "has an invalid format";
    case "false schema":
      return "is not allowed here";
    default:
      return error.message ?? `is invalid (${error.keyword})`;
  }
}

const FORMAT_NAMES: Record<string, string> = {
  uri: "an absolute URL, like https://mcp.example.com/mcp",
  "date-time": "a date and time in RFC 3339 format, like 2026-06-30T00:00:00Z",
};

/** The tag values a discriminated union accepts, from the `const`/`enum` of each branch's tag property. */
function discriminatorValues(union: AnySchemaObject, tag: string, resolveRef: RefResolver): string[] {
  const values: string[] = [];
  for (const branch of (union.oneOf as AnySchemaObject[] | undefined) ?? []) {
    const schema = typeof branch.$ref === "string" ? resolveRef(branch.$ref) : branch;
    const property = (schema?.properties as Record<string, AnySchemaObject> | undefined)?.[tag];
    if (schema?.tsType === "never") continue; // a branch that exists only to explain a rejection
    if (property?.const !== undefined) values.push(String(property.const));
    if (Array.isArray(property?.enum)) values.push(...property.enum.map(String));
  }
  return values;
}

function mustBeOneOf(allowed: readonly unknown[], value: unknown): string {
  const list = allowed.map((v) => `"${String(v)}"`);
  const head = list.length === 1 ? `must be ${list[0]}` : `must be one of ${list.join(", ")}`;
  if (typeof value !== "string") return `${head}, got ${valueKind(value)}`;
  return `${head}, got "${value}"${didYouMean(value, allowed.map(String))}`;
}

function quoteList(values: readonly string[]): string {
  return values.map((v) => `"${v}"`).join(", ");
}

function typeList(type: unknown): string[] {
  if (Array.isArray(type)) return type.map(String);
  return typeof type === "string" ? type.split(",") : [];
}

function typeName(type: string): string {
  const names: Record<string, string> = {
    string: "a string",
    object: "a mapping",
    array: "a list",
    boolean: "true or false",
    integer: "a whole number",
    number: "a number",
    null: "empty",
  };
  return names[type] ?? type;
}

/** What a YAML value is, in words, without showing it (it may be a secret). */
function valueKind(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "boolean") return "a boolean";
  return `a ${typeof value}`;
}

function orList(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? "";
  return `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Splits a JSON pointer (`/tools/0/name`) into segments, numbers where the data holds a list. */
export function parsePointer(pointer: string, data: unknown): Array<string | number> {
  if (pointer === "") return [];
  const segments: Array<string | number> = [];
  let current: unknown = data;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(current)) {
      const index = Number(key);
      segments.push(index);
      current = current[index];
    } else {
      segments.push(key);
      current = isRecord(current) ? current[key] : undefined;
    }
  }
  return segments;
}
