/**
 * Inbound authentication of the HTTP transport (ADR 0014): a shared bearer token (at least 32 characters, compared
 * in constant time) and/or OIDC access tokens (JWTs) verified with `jose` against the issuer's JWKS: signature,
 * issuer, audience, expiry (required), and an algorithm allowlist (asymmetric algorithms only, so `alg: none` and
 * HMAC confusion are refused). Both produce the MCP SDK's `AuthInfo`, whose `clientId` is the audit subject.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { InvalidTokenError } from "@modelcontextprotocol/sdk/server/auth/errors.js";
import type { OAuthTokenVerifier } from "@modelcontextprotocol/sdk/server/auth/provider.js";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import { createRemoteJWKSet, type JWTVerifyGetKey, jwtVerify } from "jose";

/** The shortest shared bearer token accepted. */
export const MIN_TOKEN_LENGTH = 32;

/** JWT algorithms accepted by default (asymmetric only). */
export const DEFAULT_JWT_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"];

/** OIDC settings. */
export interface OidcOptions {
  issuer: string;
  audience: string;
  /** The JWKS URL (https, or http on loopback for tests); default `<issuer>/.well-known/jwks.json`. */
  jwksUrl?: string;
  algorithms?: string[];
  /** Clock tolerance in seconds (default 30). */
  clockToleranceSeconds?: number;
}

/** How the HTTP transport authenticates callers. */
export interface AuthOptions {
  /** The shared bearer token (from an environment variable, never a flag). */
  token?: string;
  oidc?: OidcOptions;
}

/** Thrown for an auth configuration the server refuses to start with. */
export class AuthConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuthConfigError";
  }
}

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();

/** True when `given` equals `expected`, in time independent of where they differ (both are hashed first). */
export function constantTimeEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

const looksLikeJwt = (token: string) => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(token);

/**
 * The token verifier for `options`, for the MCP SDK's `requireBearerAuth`.
 * @throws AuthConfigError when the token is too short, an algorithm is symmetric or `none`, or OIDC settings are
 *   incomplete
 */
export function tokenVerifier(options: AuthOptions, getKey?: JWTVerifyGetKey): OAuthTokenVerifier {
  if (options.token !== undefined && options.token.length < MIN_TOKEN_LENGTH) {
    throw new AuthConfigError(
      `the bearer token is ${options.token.length} characters long; use at least ${MIN_TOKEN_LENGTH} (for example: openssl rand -hex 32)`,
    );
  }
  const oidc = options.oidc;
  let verifyJwt: ((token: string) => Promise<AuthInfo>) | undefined;
  if (oidc) {
    if (!oidc.issuer || !oidc.audience) throw new AuthConfigError("OIDC needs both an issuer and an audience");
    const algorithms = oidc.algorithms ?? DEFAULT_JWT_ALGORITHMS;
    const bad = algorithms.filter((a) => !DEFAULT_JWT_ALGORITHMS.includes(a));
    if (bad.length > 0) {
      throw new AuthConfigError(
        `JWT algorithm(s) ${bad.join(", ")} not allowed; choose from ${DEFAULT_JWT_ALGORITHMS.join(", ")}`,
      );
    }
    const keys =
      getKey ?? createRemoteJWKSet(new URL(oidc.jwksUrl ?? `${oidc.issuer.replace(/\/$/, "")}/.well-known/jwks.json`));
    verifyJwt = async (token) => {
      try {
        const { payload } = await jwtVerify(token, keys, {
          issuer: oidc.issuer,
          audience: oidc.audience,
          algorithms,
          requiredClaims: ["exp", "sub"],
          clockTolerance: oidc.clockToleranceSeconds ?? 30,
        });
        const scope = typeof payload.scope === "string" ? payload.scope.split(" ").filter(Boolean) : [];
        return { token, clientId: String(payload.sub), scopes: scope, expiresAt: payload.exp };
      } catch {
        // jose's reason (expired, bad signature, wrong audience) stays on the server: the caller learns only "invalid".
        throw new InvalidTokenError("invalid or expired token");
      }
    };
  }
  if (options.token === undefined && !verifyJwt) throw new AuthConfigError("no authentication configured");
  const token = options.token;
  return {
    async verifyAccessToken(given) {
      if (token !== undefined && constantTimeEqual(given, token)) {
        // The shared token does not expire; the SDK middleware wants an expiry, so give it one an hour ahead.
        return { token: given, clientId: "bearer", scopes: [], expiresAt: Math.floor(Date.now() / 1000) + 3600 };
      }
      if (verifyJwt && looksLikeJwt(given)) return verifyJwt(given);
      throw new InvalidTokenError("invalid or expired token");
    },
  };
}
