/**
 * The pure parts of exporting skills and tunnels: reading a zip's central directory for entry types
 * (`zip-entries.ts`), attacked with truncated and garbage archives, and the `tunnel:` form of a toolset URL
 * (`tunnelForm`), which must be exact or not used at all.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Zippable, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { TUNNEL_HOST, TUNNEL_PATH, tunnelForm } from "../../src/providers/export/toolset.js";
import { specialEntries, ZipDirectoryError } from "../../src/providers/export/zip-entries.js";
import { tunnelServerUrl } from "../../src/providers/tunnel.js";
import { REPO } from "../e2e/helpers.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("specialEntries", () => {
  it("finds symbolic links and special files recorded by a Unix host, and nothing else", () => {
    const zip = zipSync({
      "s/SKILL.md": bytes("x"),
      "s/link": [bytes("/etc/passwd"), { os: 3, attrs: (0o120000 | 0o777) << 16 }],
      "s/fifo": [bytes(""), { os: 3, attrs: (0o010000 | 0o644) << 16 }],
      "s/file": [bytes("y"), { os: 3, attrs: (0o100000 | 0o644) << 16 }],
      // A DOS host's attributes have no link type, whatever their upper bits.
      "s/dos": [bytes("z"), { os: 0, attrs: (0o120000 | 0o777) << 16 }],
    });
    expect(specialEntries(zip, 100)).toEqual([
      { name: "s/link", type: "symbolic link" },
      { name: "s/fifo", type: "special file" },
    ]);
  });

  it("reads at most `limit` entries", () => {
    const zip = zipSync(
      Object.fromEntries(
        [1, 2, 3].map((n): [string, Zippable[string]] => [`s/l${n}`, [bytes(""), { os: 3, attrs: 0o120777 << 16 }]]),
      ),
    );
    expect(specialEntries(zip, 2)).toHaveLength(2);
  });

  it("never reads out of range: every truncation and corruption is a ZipDirectoryError or a result", () => {
    const zip = zipSync({
      "s/SKILL.md": bytes("x".repeat(200)),
      "s/a": [bytes("b"), { os: 3, attrs: 0o120777 << 16 }],
    });
    for (let cut = 0; cut < zip.length; cut++) {
      for (const input of [zip.subarray(0, cut), zip.subarray(cut)]) {
        try {
          specialEntries(input, 10);
        } catch (error) {
          expect(error).toBeInstanceOf(ZipDirectoryError);
        }
      }
    }
    for (let i = 0; i < zip.length; i++) {
      const flipped = new Uint8Array(zip);
      flipped[i] = (flipped[i] ?? 0) ^ 0xff;
      try {
        specialEntries(flipped, 10);
      } catch (error) {
        expect(error).toBeInstanceOf(ZipDirectoryError);
      }
    }
    expect(() => specialEntries(new Uint8Array(0), 10)).toThrow(ZipDirectoryError);
  });
});

describe("tunnelForm", () => {
  const tunnels = [{ name: "corp", domain: "t-1234.tunnels.example.com" }];

  it("writes a URL under an exported tunnel's domain as tunnel + host + path, exactly", () => {
    for (const [url, form] of [
      ["https://db.t-1234.tunnels.example.com/mcp", { name: "corp", host: "db", path: "/mcp" }],
      ["https://mcp.db.t-1234.tunnels.example.com", { name: "corp", host: "mcp.db", path: "" }],
      ["https://db.t-1234.tunnels.example.com/a/b;c=d", { name: "corp", host: "db", path: "/a/b;c=d" }],
    ] as const) {
      expect(tunnelForm(url, tunnels)).toEqual(form);
      expect(tunnelServerUrl(form, tunnels[0]?.domain ?? "")).toBe(url);
    }
  });

  it("keeps url: for anything it cannot say exactly", () => {
    for (const url of [
      "http://db.t-1234.tunnels.example.com/mcp", // not https
      "https://DB.t-1234.tunnels.example.com/mcp", // upper case
      "https://db.t-1234.tunnels.example.com:8443/mcp", // a port
      "https://db.t-1234.tunnels.example.com/mcp?x=1", // a query
      "https://db.t-1234.tunnels.example.com/mcp#frag", // a fragment
      "https://t-1234.tunnels.example.com/mcp", // the domain itself, no host
      "https://db.evil-t-1234.tunnels.example.com/mcp", // a look-alike domain
      "https://user@db.t-1234.tunnels.example.com/mcp", // user info
    ]) {
      expect({ url, form: tunnelForm(url, tunnels) }).toEqual({ url, form: undefined });
    }
    // A bare "/" is a path the schema accepts, so it is exact too.
    expect(tunnelForm("https://db.t-1234.tunnels.example.com/", tunnels)).toEqual({
      name: "corp",
      host: "db",
      path: "/",
    });
  });

  it("uses the McpToolset schema's host and path patterns", () => {
    const schema = JSON.parse(readFileSync(join(REPO, "schemas/mcp-toolset.schema.json"), "utf8")) as {
      properties: { host: { pattern: string }; path: { pattern: string } };
    };
    expect(TUNNEL_HOST.source).toBe(schema.properties.host.pattern);
    expect(TUNNEL_PATH.source).toBe(schema.properties.path.pattern.replace("/", "\\/"));
  });
});
