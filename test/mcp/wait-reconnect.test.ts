/**
 * waitForIdle against a flaky API (a fake client, so each failure happens exactly where the test says): a dropped
 * stream connection or a 503 is retried (history re-read, nothing counted twice); a 404 is not.
 */
import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, it } from "vitest";
import { waitForIdle } from "../../src/mcp/wait.js";

type Event = { id: string; type: string; processed_at: string; [key: string]: unknown };

const ev = (n: number, type: string, extra: Record<string, unknown> = {}): Event => ({
  id: `sevt_${n}`,
  type,
  processed_at: `2026-01-01T00:00:0${n}Z`,
  ...extra,
});

/** A fake SDK client: `history` is what list returns; each stream open takes the next entry of `streams`. */
function fakeClient(history: Event[], streams: (Event[] | Error)[]) {
  let opened = 0;
  const client = {
    opened: () => opened,
    beta: {
      sessions: {
        retrieve: async () => ({ status: "running" }),
        events: {
          list: () => ({
            async *[Symbol.asyncIterator]() {
              yield* history;
            },
          }),
          stream: async () => {
            const next = streams[opened++] ?? [];
            if (next instanceof Error) throw next;
            return {
              controller: new AbortController(),
              async *[Symbol.asyncIterator]() {
                yield* next;
              },
            };
          },
        },
      },
    },
  };
  return client;
}

const message = (n: number, text: string) => ev(n, "agent.message", { content: [{ type: "text", text }] });
const idle = (n: number) => ev(n, "session.status_idle", { stop_reason: { type: "end_turn" } });

describe("waitForIdle reconnects", () => {
  it("retries a dropped connection and a 503, counting events seen twice once", async () => {
    const history = [ev(1, "user.message"), ev(2, "session.status_running")];
    const client = fakeClient(history, [
      new Anthropic.APIConnectionError({ message: "socket hang up" }),
      [ev(2, "session.status_running"), message(3, "partial")], // ends early
      Anthropic.APIError.generate(
        503,
        { type: "error", error: { type: "overloaded_error", message: "busy" } },
        "busy",
        new Headers(),
      ),
      [message(3, "partial"), idle(4)],
    ]);
    const result = await waitForIdle(client as unknown as Anthropic, "sesn_1", {
      cursor: null,
      cursorText: null,
      timeoutMs: 30_000,
    });
    expect(result.status).toBe("idle");
    expect(result.reply).toBe("partial");
    expect(client.opened()).toBe(4);
  });

  it("gives up on a 404", async () => {
    const client = fakeClient(
      [ev(1, "user.message")],
      [
        Anthropic.APIError.generate(
          404,
          { type: "error", error: { type: "not_found_error", message: "gone" } },
          "gone",
          new Headers(),
        ),
      ],
    );
    await expect(
      waitForIdle(client as unknown as Anthropic, "sesn_1", { cursor: null, cursorText: null, timeoutMs: 30_000 }),
    ).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  });
});
