/**
 * A local double of the GitHub REST API for tests: the endpoints reconcile calls, with the response shapes of
 * `@octokit/openapi-types` (checked at compile time), GitHub's pagination (`Link` headers), its comment size limit
 * (422 over 65,536 characters) and token auth. Starts on a random loopback port; `close()` stops it.
 */
import { createVerify, type KeyObject, randomBytes } from "node:crypto";
import type { components } from "@octokit/openapi-types";
import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";

type IssueComment = components["schemas"]["issue-comment"];
type SimpleUser = components["schemas"]["simple-user"];
type Issue = components["schemas"]["issue"];
type PullRequestSimple = components["schemas"]["pull-request-simple"];

/**
 * A pull request as `GET /repos/{owner}/{repo}/commits/{sha}/pulls` returns it: the fields of
 * `pull-request-simple` that reconcile reads, with their types (the double leaves out the repository objects).
 */
export type FakePullRequest = Pick<
  PullRequestSimple,
  "id" | "number" | "state" | "title" | "html_url" | "url" | "merged_at" | "merge_commit_sha"
> & {
  head: Pick<PullRequestSimple["head"], "ref" | "sha" | "label">;
  base: Pick<PullRequestSimple["base"], "ref" | "sha" | "label">;
};

/** What `addPullRequest` needs. */
export interface PullRequestInput {
  /** `owner/repo`. */
  repo: string;
  number: number;
  head_sha: string;
  /** The merge commit once merged; `merged` false leaves `merged_at` null. */
  merge_commit_sha: string;
  merged: boolean;
  base?: string;
  /** The commits the pull request is associated with (head and merge commit by default). */
  commits?: string[];
}

type CheckRun = components["schemas"]["check-run"];
type InstallationToken = components["schemas"]["installation-token"];
/** The fields of an installation the App reads (the double serves only these). */
type InstallationRow = Pick<components["schemas"]["installation"], "id" | "app_id" | "target_type">;
/** The fields of a repository the App reads (the double serves only these). */
type RepositoryRow = Pick<components["schemas"]["repository"], "id" | "name" | "full_name" | "default_branch"> & {
  owner: Pick<SimpleUser, "login">;
};

/** A GitHub App the double knows: App JWTs (RS256, `iss` = id) verified with `publicKey`. */
export interface FakeApp {
  id: number;
  publicKey: KeyObject;
  /** The login its installation tokens act as (`<slug>[bot]`). */
  botLogin: string;
  /** Installation id → repositories (`owner/name`) it is installed on. */
  installations: Record<number, string[]>;
}

/** One request the double received, for assertions (method, path with query, and the token that made it). */
export interface SeenRequest {
  method: string;
  url: string;
  token: string | undefined;
}

/** A running double. */
export interface FakeGitHub {
  /** The REST root to give octokit as `baseUrl`. */
  url: string;
  /** Every request, in order. */
  requests: SeenRequest[];
  /** Comments by `owner/repo#number`, oldest first. */
  comments: Map<string, IssueComment[]>;
  /** Issues by `owner/repo#number`. */
  issues: Map<string, Issue>;
  /** Adds a comment as another user (to test that foreign comments are left alone). */
  addComment(issue: string, body: string, login: string): IssueComment;
  /** Registers a pull request, associated with its head and merge commits (and `commits`). */
  addPullRequest(input: PullRequestInput): FakePullRequest;
  /** Runs `hook` once, just before the next comment is created (to stage a concurrent writer). */
  beforeNextCreate(hook: () => void): void;
  /** Tarballs served by `GET /repos/{owner}/{repo}/tarball/{ref}`, by `owner/repo@ref`. */
  tarballs: Map<string, Buffer>;
  /** Branch heads served by `GET /repos/{owner}/{repo}/branches/{branch}`, by `owner/repo@branch` → SHA. */
  branches: Map<string, string>;
  /** Check runs by id, as last written. */
  checkRuns: Map<number, CheckRun>;
  /** Every write to a check run, in order (create and update bodies), for assertions on sequencing. */
  checkRunWrites: Array<{ id: number; method: string; body: Record<string, unknown> }>;
  /** Installation tokens issued (`POST /app/installations/{id}/access_tokens`). */
  issuedTokens: string[];
  close(): Promise<void>;
}

/** Options of `startFakeGitHub`. */
export interface FakeGitHubOptions {
  /** Tokens accepted (`Authorization: token X` or `Bearer X`), each mapped to the login it acts as. */
  tokens: Record<string, string>;
  /** Page size cap (GitHub's is 100); small values exercise pagination. */
  maxPerPage?: number;
  /** A GitHub App whose JWTs are accepted on `/app/...` endpoints and whose installation tokens are issued. */
  app?: FakeApp;
}

/** True when `jwt` is an RS256 JWT signed by `app`'s key, issued for it and not expired (GitHub's App JWT rules). */
function validAppJwt(jwt: string, app: FakeApp): boolean {
  const [head, body, signature] = jwt.split(".");
  if (!head || !body || !signature) return false;
  try {
    const header = JSON.parse(Buffer.from(head, "base64url").toString()) as { alg?: string };
    const claims = JSON.parse(Buffer.from(body, "base64url").toString()) as { iss?: unknown; exp?: number };
    if (header.alg !== "RS256" || String(claims.iss) !== String(app.id)) return false;
    if (typeof claims.exp !== "number" || claims.exp * 1000 < Date.now()) return false;
    return createVerify("RSA-SHA256")
      .update(`${head}.${body}`)
      .verify(app.publicKey, Buffer.from(signature, "base64url"));
  } catch {
    return false;
  }
}

function user(login: string, id: number, base: string): SimpleUser {
  return {
    login,
    id,
    node_id: `U_${id}`,
    avatar_url: `${base}/avatars/${login}`,
    gravatar_id: null,
    url: `${base}/users/${login}`,
    html_url: `${base}/${login}`,
    followers_url: `${base}/users/${login}/followers`,
    following_url: `${base}/users/${login}/following{/other_user}`,
    gists_url: `${base}/users/${login}/gists{/gist_id}`,
    starred_url: `${base}/users/${login}/starred{/owner}{/repo}`,
    subscriptions_url: `${base}/users/${login}/subscriptions`,
    organizations_url: `${base}/users/${login}/orgs`,
    repos_url: `${base}/users/${login}/repos`,
    events_url: `${base}/users/${login}/events{/privacy}`,
    received_events_url: `${base}/users/${login}/received_events`,
    type: login.endsWith("[bot]") ? "Bot" : "User",
    site_admin: false,
  };
}

const GITHUB_MAX_BODY = 65_536;

/** Starts the double on 127.0.0.1 with a random port. */
export async function startFakeGitHub(options: FakeGitHubOptions): Promise<FakeGitHub> {
  const app = Fastify({ bodyLimit: 1024 * 1024 });
  const requests: SeenRequest[] = [];
  const comments = new Map<string, IssueComment[]>();
  const issues = new Map<string, Issue>();
  let nextNumber = 1;
  const users = new Map<string, SimpleUser>();
  let nextId = 1000;
  let base = "";
  const userFor = (login: string) => {
    let found = users.get(login);
    if (!found) {
      found = user(login, users.size + 1, base);
      users.set(login, found);
    }
    return found;
  };
  let pendingHook: (() => void) | undefined;
  const pulls: Array<{ pull: FakePullRequest; repo: string; commits: string[] }> = [];
  const create = (issue: string, body: string, login: string): IssueComment => {
    const hook = pendingHook;
    pendingHook = undefined;
    hook?.();
    const id = nextId++;
    const now = new Date().toISOString();
    const [repo, number] = issue.split("#");
    const comment: IssueComment = {
      id,
      node_id: `IC_${id}`,
      url: `${base}/repos/${repo}/issues/comments/${id}`,
      html_url: `https://github.example/${repo}/pull/${number}#issuecomment-${id}`,
      issue_url: `${base}/repos/${repo}/issues/${number}`,
      body,
      user: userFor(login),
      created_at: now,
      updated_at: now,
      author_association: "NONE",
    };
    const list = comments.get(issue) ?? [];
    list.push(comment);
    comments.set(issue, list);
    return comment;
  };
  const fail = (reply: FastifyReply, status: number, message: string) =>
    reply.code(status).send({ message, documentation_url: "https://docs.github.com/rest", status: String(status) });

  app.addHook("onRequest", async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization ?? "";
    const token = /^(?:token|bearer)\s+(.+)$/i.exec(header)?.[1];
    requests.push({ method: request.method, url: request.url, token });
    if (request.url.startsWith("/app/") || request.url === "/app") {
      // App endpoints take only the App's JWT (GitHub: "A JSON web token (JWT) is required").
      if (!token || !options.app || !validAppJwt(token, options.app)) return fail(reply, 401, "Bad credentials");
      return;
    }
    if (!token || !(token in options.tokens)) return fail(reply, 401, "Bad credentials");
  });
  const login = (request: FastifyRequest) => {
    const token = /^(?:token|bearer)\s+(.+)$/i.exec(request.headers.authorization ?? "")?.[1] ?? "";
    return options.tokens[token] as string;
  };
  const findComment = (id: number): [string, IssueComment[], number] | undefined => {
    for (const [issue, list] of comments) {
      const index = list.findIndex((c) => c.id === id);
      if (index >= 0) return [issue, list, index];
    }
    return undefined;
  };

  type IssueParams = { owner: string; repo: string; number: string };
  app.get<{ Params: IssueParams; Querystring: { per_page?: string; page?: string } }>(
    "/repos/:owner/:repo/issues/:number/comments",
    async (request, reply) => {
      const { owner, repo, number } = request.params;
      const perPage = Math.min(Number(request.query.per_page ?? 30) || 30, options.maxPerPage ?? 100);
      const page = Math.max(1, Number(request.query.page ?? 1) || 1);
      const list = comments.get(`${owner}/${repo}#${number}`) ?? [];
      const last = Math.max(1, Math.ceil(list.length / perPage));
      const link = (p: number, rel: string) =>
        `<${base}/repos/${owner}/${repo}/issues/${number}/comments?per_page=${perPage}&page=${p}>; rel="${rel}"`;
      const links = [];
      if (page < last) links.push(link(page + 1, "next"), link(last, "last"));
      if (page > 1) links.push(link(1, "first"), link(page - 1, "prev"));
      if (links.length > 0) reply.header("link", links.join(", "));
      return list.slice((page - 1) * perPage, page * perPage);
    },
  );
  app.post<{ Params: IssueParams; Body: { body?: unknown } }>(
    "/repos/:owner/:repo/issues/:number/comments",
    async (request, reply) => {
      const body = request.body?.body;
      if (typeof body !== "string") return fail(reply, 422, "Invalid request: body is required");
      if (body.length > GITHUB_MAX_BODY) return fail(reply, 422, "Body is too long (maximum is 65536 characters)");
      const { owner, repo, number } = request.params;
      return reply.code(201).send(create(`${owner}/${repo}#${number}`, body, login(request)));
    },
  );
  type CommentParams = { owner: string; repo: string; id: string };
  app.patch<{ Params: CommentParams; Body: { body?: unknown } }>(
    "/repos/:owner/:repo/issues/comments/:id",
    async (request, reply) => {
      const found = findComment(Number(request.params.id));
      if (!found) return fail(reply, 404, "Not Found");
      const body = request.body?.body;
      if (typeof body !== "string") return fail(reply, 422, "Invalid request: body is required");
      if (body.length > GITHUB_MAX_BODY) return fail(reply, 422, "Body is too long (maximum is 65536 characters)");
      const [, list, index] = found;
      const comment = list[index] as IssueComment;
      if (comment.user?.login !== login(request)) return fail(reply, 403, "Resource not accessible by integration");
      const updated: IssueComment = { ...comment, body, updated_at: new Date().toISOString() };
      list[index] = updated;
      return updated;
    },
  );
  app.delete<{ Params: CommentParams }>("/repos/:owner/:repo/issues/comments/:id", async (request, reply) => {
    const found = findComment(Number(request.params.id));
    if (!found) return fail(reply, 404, "Not Found");
    const [, list, index] = found;
    if (list[index]?.user?.login !== login(request)) return fail(reply, 403, "Resource not accessible by integration");
    list.splice(index, 1);
    return reply.code(204).send();
  });

  type RepoParams = { owner: string; repo: string };
  app.get<{ Params: RepoParams; Querystring: { state?: string; labels?: string; per_page?: string; page?: string } }>(
    "/repos/:owner/:repo/issues",
    async (request, reply) => {
      const { owner, repo } = request.params;
      const state = request.query.state ?? "open";
      const labels = (request.query.labels ?? "").split(",").filter(Boolean);
      const perPage = Math.min(Number(request.query.per_page ?? 30) || 30, options.maxPerPage ?? 100);
      const page = Math.max(1, Number(request.query.page ?? 1) || 1);
      const list = [...issues.entries()]
        .filter(([key]) => key.startsWith(`${owner}/${repo}#`))
        .map(([, issue]) => issue)
        .filter((i) => state === "all" || i.state === state)
        .filter((i) => labels.every((l) => i.labels.some((x) => (typeof x === "string" ? x : x.name) === l)))
        .sort((a, b) => b.number - a.number);
      const last = Math.max(1, Math.ceil(list.length / perPage));
      if (page < last) {
        reply.header(
          "link",
          `<${base}/repos/${owner}/${repo}/issues?state=${state}&labels=${labels.join(",")}&per_page=${perPage}&page=${page + 1}>; rel="next"`,
        );
      }
      return list.slice((page - 1) * perPage, page * perPage);
    },
  );
  app.post<{ Params: RepoParams; Body: { title?: unknown; body?: unknown; labels?: unknown } }>(
    "/repos/:owner/:repo/issues",
    async (request, reply) => {
      const { owner, repo } = request.params;
      const { title, body, labels } = request.body ?? {};
      if (typeof title !== "string" || title === "") return fail(reply, 422, "Invalid request: title is required");
      if (body !== undefined && typeof body !== "string") return fail(reply, 422, "Invalid request: body");
      if (typeof body === "string" && body.length > GITHUB_MAX_BODY) {
        return fail(reply, 422, "Body is too long (maximum is 65536 characters)");
      }
      const number = nextNumber++;
      const now = new Date().toISOString();
      const url = `${base}/repos/${owner}/${repo}/issues/${number}`;
      const issue: Issue = {
        id: 50_000 + number,
        node_id: `I_${number}`,
        url,
        repository_url: `${base}/repos/${owner}/${repo}`,
        labels_url: `${url}/labels{/name}`,
        comments_url: `${url}/comments`,
        events_url: `${url}/events`,
        html_url: `https://github.example/${owner}/${repo}/issues/${number}`,
        number,
        state: "open",
        title,
        body: typeof body === "string" ? body : null,
        user: userFor(login(request)),
        labels: Array.isArray(labels) ? labels.map((name, i) => ({ id: i + 1, name: String(name) })) : [],
        assignee: null,
        milestone: null,
        locked: false,
        comments: 0,
        closed_at: null,
        created_at: now,
        updated_at: now,
      };
      issues.set(`${owner}/${repo}#${number}`, issue);
      return reply.code(201).send(issue);
    },
  );
  app.patch<{
    Params: IssueParams;
    Body: { title?: unknown; body?: unknown; state?: unknown; state_reason?: unknown };
  }>("/repos/:owner/:repo/issues/:number", async (request, reply) => {
    const { owner, repo, number } = request.params;
    const key = `${owner}/${repo}#${number}`;
    const issue = issues.get(key);
    if (!issue) return fail(reply, 404, "Not Found");
    const { title, body, state, state_reason } = request.body ?? {};
    if (state !== undefined && state !== "open" && state !== "closed") return fail(reply, 422, "Invalid state");
    const now = new Date().toISOString();
    const updated: Issue = {
      ...issue,
      ...(typeof title === "string" ? { title } : {}),
      ...(typeof body === "string" ? { body } : {}),
      ...(state === "open" || state === "closed" ? { state, closed_at: state === "closed" ? now : null } : {}),
      ...(typeof state_reason === "string" ? { state_reason: state_reason as Issue["state_reason"] } : {}),
      updated_at: now,
    };
    issues.set(key, updated);
    return updated;
  });

  type CommitParams = { owner: string; repo: string; sha: string };
  app.get<{ Params: CommitParams }>("/repos/:owner/:repo/commits/:sha/pulls", async (request) => {
    const { owner, repo, sha } = request.params;
    return pulls.filter((p) => p.repo === `${owner}/${repo}` && p.commits.includes(sha)).map((p) => p.pull);
  });

  const tarballs = new Map<string, Buffer>();
  const branches = new Map<string, string>();
  const checkRuns = new Map<number, CheckRun>();
  const checkRunWrites: FakeGitHub["checkRunWrites"] = [];
  const issuedTokens: string[] = [];
  const tokenInstallation = new Map<string, number>();
  app.get<{ Params: RepoParams & { ref: string } }>("/repos/:owner/:repo/tarball/:ref", async (request, reply) => {
    const { owner, repo, ref } = request.params;
    const tarball = tarballs.get(`${owner}/${repo}@${ref}`);
    if (!tarball) return fail(reply, 404, "Not Found");
    return reply.header("content-type", "application/x-gzip").send(tarball);
  });
  app.get<{ Params: RepoParams & { branch: string } }>(
    "/repos/:owner/:repo/branches/:branch",
    async (request, reply) => {
      const { owner, repo, branch } = request.params;
      const sha = branches.get(`${owner}/${repo}@${branch}`);
      if (!sha) return fail(reply, 404, "Branch not found");
      // Only the fields reconcile reads; GitHub's "branch-with-protection" has many more.
      return { name: branch, commit: { sha }, protected: false };
    },
  );
  type CheckBody = {
    name?: unknown;
    head_sha?: unknown;
    status?: CheckRun["status"];
    conclusion?: CheckRun["conclusion"];
    started_at?: string;
    completed_at?: string;
    output?: { title?: string; summary?: string; text?: string };
  };
  const checkStatuses = new Set(["queued", "in_progress", "completed"]);
  const conclusions = new Set([
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "stale",
    "timed_out",
  ]);
  const checkProblem = (body: CheckBody, creating: boolean): string | undefined => {
    if (creating && (typeof body.name !== "string" || body.name === "")) return "name is required";
    if (creating && (typeof body.head_sha !== "string" || !/^[0-9a-f]{40}$/.test(body.head_sha))) {
      return "head_sha is not a commit SHA";
    }
    if (body.status !== undefined && !checkStatuses.has(body.status)) return "status is invalid";
    if (body.conclusion != null && !conclusions.has(body.conclusion)) return "conclusion is invalid";
    if (body.status === "completed" && !body.conclusion) return "conclusion is required when status is completed";
    if ((body.output?.summary?.length ?? 0) > 65_535) return "output.summary is too long (maximum is 65535 characters)";
    return undefined;
  };
  app.post<{ Params: RepoParams; Body: CheckBody }>("/repos/:owner/:repo/check-runs", async (request, reply) => {
    const body = request.body ?? {};
    const problem = checkProblem(body, true);
    if (problem) return fail(reply, 422, `Invalid request: ${problem}`);
    const { owner, repo } = request.params;
    const id = nextId++;
    const run: CheckRun = {
      id,
      head_sha: body.head_sha as string,
      node_id: `CR_${id}`,
      external_id: null,
      url: `${base}/repos/${owner}/${repo}/check-runs/${id}`,
      html_url: `https://github.example/${owner}/${repo}/runs/${id}`,
      details_url: null,
      status: body.status ?? "queued",
      conclusion: body.conclusion ?? null,
      started_at: body.started_at ?? null,
      completed_at: body.completed_at ?? null,
      output: {
        title: body.output?.title ?? null,
        summary: body.output?.summary ?? null,
        text: body.output?.text ?? null,
        annotations_count: 0,
        annotations_url: `${base}/repos/${owner}/${repo}/check-runs/${id}/annotations`,
      },
      name: body.name as string,
      check_suite: null,
      app: null,
      pull_requests: [],
    };
    checkRuns.set(id, run);
    checkRunWrites.push({ id, method: "POST", body: body as Record<string, unknown> });
    return reply.code(201).send(run);
  });
  app.patch<{ Params: RepoParams & { id: string }; Body: CheckBody }>(
    "/repos/:owner/:repo/check-runs/:id",
    async (request, reply) => {
      const id = Number(request.params.id);
      const run = checkRuns.get(id);
      if (!run) return fail(reply, 404, "Not Found");
      const body = request.body ?? {};
      const problem = checkProblem(body, false);
      if (problem) return fail(reply, 422, `Invalid request: ${problem}`);
      const updated: CheckRun = {
        ...run,
        ...(body.status ? { status: body.status } : {}),
        ...(body.conclusion ? { conclusion: body.conclusion } : {}),
        ...(body.completed_at ? { completed_at: body.completed_at } : {}),
        output: {
          ...run.output,
          ...(body.output?.title !== undefined ? { title: body.output.title } : {}),
          ...(body.output?.summary !== undefined ? { summary: body.output.summary } : {}),
        },
      };
      checkRuns.set(id, updated);
      checkRunWrites.push({ id, method: "PATCH", body: body as Record<string, unknown> });
      return updated;
    },
  );
  // GET /app with the App's JWT: the App itself; its bot login is `<slug>[bot]`.
  app.get("/app", async () => ({
    id: options.app?.id ?? 0,
    slug: (options.app?.botLogin ?? "").replace(/\[bot\]$/, ""),
  }));
  app.get("/app/installations", async () => {
    const rows: InstallationRow[] = Object.keys(options.app?.installations ?? {}).map((id) => ({
      id: Number(id),
      app_id: options.app?.id ?? 0,
      target_type: "Organization",
    }));
    return rows;
  });
  app.post<{ Params: { id: string } }>("/app/installations/:id/access_tokens", async (request, reply) => {
    const fake = options.app;
    const id = Number(request.params.id);
    if (!fake || !(id in fake.installations)) return fail(reply, 404, "Not Found");
    const token = `ghs_${randomBytes(18).toString("hex")}`;
    options.tokens[token] = fake.botLogin;
    tokenInstallation.set(token, id);
    issuedTokens.push(token);
    const answer: InstallationToken = {
      token,
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      permissions: { contents: "read", pull_requests: "write", issues: "write", checks: "write" },
      repository_selection: "selected",
    };
    return reply.code(201).send(answer);
  });
  app.get("/installation/repositories", async (request, reply) => {
    const token = /^(?:token|bearer)\s+(.+)$/i.exec(request.headers.authorization ?? "")?.[1] ?? "";
    const installation = tokenInstallation.get(token);
    if (installation === undefined) return fail(reply, 403, "This endpoint needs an installation token");
    const repositories: RepositoryRow[] = (options.app?.installations[installation] ?? []).map((full, i) => {
      const [owner = "", name = ""] = full.split("/");
      return { id: 7000 + i, name, full_name: full, default_branch: "main", owner: { login: owner } };
    });
    return { total_count: repositories.length, repositories };
  });

  const address = await app.listen({ host: "127.0.0.1", port: 0 });
  base = address;
  return {
    url: address,
    requests,
    comments,
    issues,
    addComment: (issue, body, as) => create(issue, body, as),
    addPullRequest: (input) => {
      const base = input.base ?? "master";
      const pull: FakePullRequest = {
        id: 90_000 + input.number,
        number: input.number,
        state: input.merged ? "closed" : "open",
        title: `pull request ${input.number}`,
        html_url: `https://github.example/${input.repo}/pull/${input.number}`,
        url: `${address}/pulls/${input.number}`,
        merged_at: input.merged ? new Date().toISOString() : null,
        merge_commit_sha: input.merge_commit_sha,
        head: { ref: "feature", sha: input.head_sha, label: "feature" },
        base: { ref: base, sha: "0".repeat(40), label: base },
      };
      pulls.push({
        pull,
        repo: input.repo,
        commits: input.commits ?? [input.head_sha, input.merge_commit_sha],
      });
      return pull;
    },
    beforeNextCreate: (hook) => {
      pendingHook = hook;
    },
    tarballs,
    branches,
    checkRuns,
    checkRunWrites,
    issuedTokens,
    close: () => app.close(),
  };
}
