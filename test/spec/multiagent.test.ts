import { describe, expect, test } from "vitest";
import { loadProject } from "../../src/spec/index.js";
import { errorLines, writeRepo, yaml } from "./helpers.js";

const V1 = "apiVersion: reconcile/v1";
const agent = (name: string, ...more: string[]) =>
  yaml(V1, "kind: Agent", `name: ${name}`, "model: claude-haiku-4-5", ...more);

describe("multiagent rosters", () => {
  test("resolve by spec name, with the API's defaults written out", async () => {
    const { specs, errors } = await loadProject(
      await writeRepo({
        "agents/lead.yaml": agent(
          "lead",
          "multiagent:",
          "  agents: [triage, self, {name: writer, version: latest}]",
          "  workflows: {agents: [writer], inline_agents: false}",
          "  advisor: claude-opus-4-6",
        ),
        "agents/triage.yaml": agent("triage"),
        "agents/writer.yaml": agent("writer"),
      }),
    );
    expect(errors).toEqual([]);
    const lead = specs.agents.find((a) => a.name === "lead");
    expect(lead?.multiagent).toEqual({
      subagents: {
        enabled: true,
        inline_agents: true,
        agents: [{ agent: "triage", version: "current" }, { self: true }, { agent: "writer", version: "latest" }],
      },
      workflows: { enabled: true, inline_agents: false, agents: [{ agent: "writer", version: "current" }] },
      advisor: "claude-opus-4-6",
    });
    expect(specs.agents.find((a) => a.name === "triage")?.multiagent).toBeUndefined();
  });

  test("`multiagent: false` is an explicit null; display_name defaults to the spec name", async () => {
    const { specs, errors } = await loadProject(
      await writeRepo({
        "agents/a.yaml": agent("a", "multiagent: false", "display_name: Triage Bot"),
        "agents/b.yaml": agent(
          "b",
          "execution_identity: {type: aws_role, role_arn: 'arn:aws:iam::123456789012:role/r'}",
        ),
      }),
    );
    expect(errors).toEqual([]);
    expect(specs.agents[0]).toMatchObject({ name: "a", display_name: "Triage Bot", multiagent: null });
    expect(specs.agents[1]).toMatchObject({
      name: "b",
      display_name: "b",
      execution_identity: { type: "aws_role", role_arn: "arn:aws:iam::123456789012:role/r" },
    });
  });

  test("an unknown agent name is a located error with a suggestion", async () => {
    expect(
      await errorLines({
        "agents/lead.yaml": agent("lead", "multiagent:", "  agents: [triage]", "  workflows: {agents: [trage]}"),
        "agents/triage.yaml": agent("triage"),
        "agents/x.yaml": agent("x", "multiagent: {agents: [nobody-here]}"),
      }),
    ).toEqual([
      'agents/lead.yaml:7:24: Agent/lead: multiagent.workflows.agents[0]: unknown Agent "trage" (did you mean "triage"?)',
      'agents/x.yaml:5:23: Agent/x: multiagent.agents[0]: unknown Agent "nobody-here"',
    ]);
  });

  test("a cycle a -> b -> a is named at the entry that closes it", async () => {
    expect(
      await errorLines({
        "agents/a.yaml": agent("a", "multiagent:", "  agents: [b]"),
        "agents/b.yaml": agent("b", "multiagent:", "  agents:", "    - c", "    - a"),
        "agents/c.yaml": agent("c"),
      }),
    ).toEqual([
      "agents/b.yaml:8:7: Agent/b: multiagent.agents[1]: calls form a cycle: agent a -> agent b -> agent a; each agent needs the other's version first, so they cannot be applied: remove one of these calls",
    ]);
  });

  test("a longer cycle through workflows is named too, and only once", async () => {
    const lines = await errorLines({
      "agents/a.yaml": agent("a", "multiagent: {agents: [b]}"),
      "agents/b.yaml": agent("b", "multiagent: {workflows: {agents: [c]}}"),
      "agents/c.yaml": agent("c", "multiagent: {agents: [{name: a, version: latest}]}"),
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("agents/c.yaml:5:");
    expect(lines[0]).toContain("calls form a cycle: agent a -> agent b -> agent c -> agent a");
  });

  test("an agent naming itself (a -> a) is a cycle, pointing at `self`", async () => {
    expect(await errorLines({ "agents/a.yaml": agent("a", "multiagent:", "  agents: [a]") })).toEqual([
      "agents/a.yaml:6:12: Agent/a: multiagent.agents[0]: calls form a cycle: agent a -> agent a; an agent cannot name itself: write `self` to let it spawn copies of itself",
    ]);
  });

  test("duplicates, an empty roster without inline agents, and subagents: false with agents are refused", async () => {
    const lines = await errorLines({
      "agents/a.yaml": agent("a", "multiagent:", "  agents: [b, {name: b, version: latest}]", "  inline_agents: false"),
      "agents/b.yaml": agent("b", "multiagent: {workflows: {inline_agents: false}}"),
      "agents/c.yaml": agent("c", "multiagent: {subagents: false, agents: [b]}"),
    });
    expect(lines).toEqual([
      'agents/a.yaml:6:15: Agent/a: multiagent.agents[1]: "b" is listed twice (first at line 6)',
      expect.stringMatching(/^agents\/b\.yaml:5:.*multiagent\.workflows\.inline_agents: with `inline_agents: false`/),
      expect.stringMatching(/^agents\/c\.yaml:5:.*`subagents: false` disables session threads/),
    ]);
  });

  test("a reference to an invalid Agent spec is not reported again; the spec's own error is", async () => {
    const lines = await errorLines({
      "agents/a.yaml": agent("a", "multiagent: {agents: [broken]}"),
      "agents/broken.yaml": agent("broken", "bogus: 1"),
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("agents/broken.yaml");
  });

  test("an empty `multiagent:` (YAML null) or `true` is a located schema error, not a silent default", async () => {
    expect(
      await errorLines({
        "agents/a.yaml": agent("a", "multiagent:"),
        "agents/b.yaml": agent("b", "multiagent: true"),
      }),
    ).toEqual([
      "agents/a.yaml:5:12: Agent/a: multiagent: must be a mapping or true or false, got nothing",
      'agents/b.yaml:5:13: Agent/b: multiagent: must be "false", got a boolean',
    ]);
  });

  test("execution_identity must be a known variant with an IAM role ARN", async () => {
    const lines = await errorLines({
      "agents/a.yaml": agent("a", "execution_identity: {type: aws_role, role_arn: not-an-arn}"),
      "agents/b.yaml": agent("b", "execution_identity: {type: root}"),
    });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain("IAM role ARN");
    expect(lines[1]).toContain("agents/b.yaml");
  });
});
