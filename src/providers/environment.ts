/**
 * The `environment` provider: `Environment` specs ↔ `/v1/environments` (SDK `client.beta.environments`, types
 * `EnvironmentCreateParams`, `EnvironmentUpdateParams`, `BetaEnvironment`). `config.type` cannot change in place
 * (the API answers `invalid_config_type_change`), so a change of it is a replacement.
 */
import type { ResolvedEnvironment } from "../spec/types.js";
import { archiveObject, listObjects, readObject, writeObject } from "./client.js";
import { sortedStrings, toJson } from "./comparable.js";
import { metadataUpdate, userMetadata } from "./ownership.js";
import { desiredResource } from "./resource.js";
import type { ComparableState, Json, Provider } from "./types.js";

type Obj = Record<string, unknown>;

const PACKAGE_MANAGERS = ["apt", "cargo", "gem", "go", "npm", "pip"] as const;

/**
 * Comparable form of an environment `config` (params or `BetaCloudConfig`), with the server's defaults filled
 * (unrestricted networking, limited-network flags false, empty package lists) and host and package lists sorted,
 * as the API treats them as sets.
 */
export function configState(config: unknown): Json {
  const c = (config ?? { type: "cloud" }) as Obj;
  if (c.type !== "cloud") return toJson(c);
  const net = (c.networking ?? { type: "unrestricted" }) as Obj;
  const networking: Json =
    net.type === "limited"
      ? {
          type: "limited",
          allowed_hosts: sortedStrings(net.allowed_hosts as string[] | null),
          allow_mcp_servers: net.allow_mcp_servers === true,
          allow_package_managers: net.allow_package_managers === true,
        }
      : { type: String(net.type) };
  const pkgs = (c.packages ?? {}) as Obj;
  const packages: { [key: string]: Json } = {};
  for (const manager of PACKAGE_MANAGERS) packages[manager] = sortedStrings(pkgs[manager] as string[] | null);
  return { type: "cloud", networking, packages };
}

/** Comparable form of an environment, from create params or a `BetaEnvironment`. */
export function environmentState(env: Obj): ComparableState {
  return {
    name: String(env.name),
    description: typeof env.description === "string" && env.description !== "" ? env.description : null,
    config: configState(env.config),
    metadata: userMetadata(env.metadata as Record<string, string> | undefined),
  };
}

/**
 * Create/update params. `config` is sent fully explicit (every default written out): the API merges a sent config
 * into the stored one (an omitted `packages` keeps the old lists), so leaving a field out would not reset it.
 */
function environmentParams(spec: ResolvedEnvironment): Obj {
  return { name: spec.name, description: spec.description, config: configState(spec.config), metadata: spec.metadata };
}

/** The environment provider (see the module comment). */
export const environmentProvider: Provider = {
  type: "environment",
  replaceOrder: "create-first",
  replaceOn: ["config.type"],
  desired(specs) {
    return specs.environments.map((spec) =>
      desiredResource({
        type: "environment",
        name: spec.name,
        previousNames: spec.previous_names,
        state: environmentState(environmentParams(spec)),
        protect: spec.protect,
        deleteOnPrune: spec.on_prune === "delete",
        source: spec.source,
        spec,
      }),
    );
  },
  list: (client, _parentId, onPage) =>
    listObjects(
      client,
      "environment",
      "/v1/environments",
      (query, o) => client.beta.environments.list(query, o),
      onPage,
    ),
  retrieve: (client, id) =>
    readObject(client, "environment", `GET /v1/environments/${id}`, (o) =>
      client.beta.environments.retrieve(id, {}, o),
    ),
  state: (object) => environmentState(object),
  async create(client, desired, _ctx, ownership) {
    const params = environmentParams(desired.spec as ResolvedEnvironment);
    params.metadata = { ...(params.metadata as Obj), ...ownership };
    const env = await writeObject(client, "environment", "POST /v1/environments", (o) =>
      client.beta.environments.create(params as never, o),
    );
    return { id: env.id };
  },
  async update(client, desired, live, request) {
    const spec = desired.spec as ResolvedEnvironment;
    const params = environmentParams(spec);
    const body: Obj = {};
    for (const field of request.fields) if (field !== "metadata") body[field] = params[field];
    const metadata = metadataUpdate(spec.metadata, live.metadata, request);
    if (metadata) body.metadata = metadata;
    const env = await writeObject(client, "environment", `POST /v1/environments/${live.id}`, (o) =>
      client.beta.environments.update(live.id, body as never, o),
    );
    return { id: env.id };
  },
  async archive(client, live) {
    await archiveObject(client, "environment", `POST /v1/environments/${live.id}/archive`, (o) =>
      client.beta.environments.archive(live.id, {}, o),
    );
  },
  async delete(client, live) {
    await archiveObject(client, "environment", `DELETE /v1/environments/${live.id}`, (o) =>
      client.beta.environments.delete(live.id, {}, o),
    );
  },
};
