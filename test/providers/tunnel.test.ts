import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../src/providers/client.js";
import { ownerOf } from "../../src/providers/ownership.js";
import { isOutputRef } from "../../src/providers/refs.js";
import { checkShape } from "../../src/providers/response.js";
import {
  parseTunnelDisplayName,
  revealTunnelToken,
  toolsetServerUrl,
  tunnelDisplayName,
  tunnelMetadata,
  tunnelProvider,
  tunnelServerUrl,
} from "../../src/providers/tunnel.js";
import type { ResolvedMcpToolset } from "../../src/spec/types.js";

const toolset = (more: Partial<ResolvedMcpToolset>): ResolvedMcpToolset => ({
  name: "db",
  server_name: "db",
  url: null,
  tools: null,
  default_permission_policy: "always_ask",
  source: { file: "toolsets/db.yaml", line: 1, col: 1 },
  ...more,
});

describe("tunnel identity in the display name", () => {
  it("round-trips the tag and reads ownership from it", () => {
    const name = tunnelDisplayName("Corporate network", "example-fleet", "corp");
    expect(name).toBe("Corporate network [reconcile:example-fleet/corp]");
    expect(parseTunnelDisplayName(name)).toEqual({
      display_name: "Corporate network",
      owner: { stack: "example-fleet", name: "corp" },
    });
    const object = { id: "tnl_1", display_name: name, domain: "a.example.com", created_at: "x" };
    expect(ownerOf(tunnelMetadata(object))).toEqual({ stack: "example-fleet", name: "corp", lifecycle: null });
    expect(tunnelProvider.state(object)).toEqual({ display_name: "Corporate network" });
  });

  it("a tunnel without the tag (console-made, or a null name) is nobody's", () => {
    expect(parseTunnelDisplayName("corp")).toEqual({ display_name: "corp", owner: null });
    expect(parseTunnelDisplayName(null)).toEqual({ display_name: null, owner: null });
    expect(tunnelMetadata({ id: "tnl_1", display_name: "corp [reconcile:Bad Stack/x]" })).toBeUndefined();
    expect(tunnelMetadata({ id: "tnl_1", display_name: "corp [reconcile:s/x] trailing" })).toBeUndefined();
    // The longest spec values still fit the API's 255 characters.
    const longest = tunnelDisplayName("d".repeat(100), "s".repeat(63), "n".repeat(64));
    expect(longest.length).toBeLessThanOrEqual(255);
    expect(parseTunnelDisplayName(longest).owner).toEqual({ stack: "s".repeat(63), name: "n".repeat(64) });
  });

  it("only the last bracketed tag counts (a display name cannot smuggle another owner in front)", () => {
    const parsed = parseTunnelDisplayName("x [reconcile:other/evil] [reconcile:mine/corp]");
    expect(parsed.owner).toEqual({ stack: "mine", name: "corp" });
  });
});

describe("the URL of a server behind a tunnel", () => {
  it("is https://<host>.<domain><path>, built in one place, and a reference until the domain is known", () => {
    const behind = toolset({ tunnel: { name: "corp", host: "db-mcp", path: "/mcp" } });
    expect(tunnelServerUrl({ name: "corp", host: "db-mcp", path: "/mcp" }, "t1.example.net")).toBe(
      "https://db-mcp.t1.example.net/mcp",
    );
    const ref = toolsetServerUrl(behind);
    expect(isOutputRef(ref)).toBe(true);
    expect(ref).toEqual({ $ref: "tunnel.corp", output: "domain", prefix: "https://db-mcp.", suffix: "/mcp" });
    expect(toolsetServerUrl(toolset({ url: "https://x.example.com" }))).toBe("https://x.example.com");
    expect(() => toolsetServerUrl(toolset({}))).toThrow(/neither url nor tunnel/);
  });
});

describe("hostile answers", () => {
  it("a tunnel whose domain is not a DNS name is refused before it can reach an agent's URL", () => {
    const tunnel = (domain: unknown) => ({
      id: "tnl_011Cabc",
      display_name: null,
      domain,
      created_at: "2026-01-01T00:00:00Z",
      archived_at: null,
    });
    expect(() =>
      checkShape(tunnel("t1.example.net"), { kind: "object", type: "tunnel" }, "GET /v1/tunnels/x"),
    ).not.toThrow();
    for (const bad of ["evil.example/path?", "a", "x..y", "tun nel.example.com", 42]) {
      expect(() => checkShape(tunnel(bad), { kind: "object", type: "tunnel" }, "GET /v1/tunnels/x")).toThrow(
        /not a tunnel: at \/domain/,
      );
    }
  });

  let server: Server;
  let url = "";
  let answer: unknown = {};
  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(answer));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("a revealed token with control characters is refused without quoting it", async () => {
    const client = createClient({ apiKey: "k", baseURL: url, maxRetries: 0 });
    answer = { id: "tok_1", tunnel_token: "canary-\u001b]0;pwned\u0007-token", type: "tunnel_token" };
    const error = await revealTunnelToken(client, "tnl_1").catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain("not a tunnel token");
    expect((error as Error).message).not.toContain("canary");
    answer = { id: "tok_1", tunnel_token: "canary-good-token", type: "tunnel_token" };
    expect((await revealTunnelToken(client, "tnl_1")).tunnel_token).toBe("canary-good-token");
  });
});
