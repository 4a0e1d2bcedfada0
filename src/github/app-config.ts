/**
 * The GitHub App's configuration, from the environment (never from flags, which `ps` shows): `GITHUB_APP_ID`,
 * `GITHUB_APP_PRIVATE_KEY` (the PEM itself) or `GITHUB_APP_PRIVATE_KEY_PATH` (a file holding it), and
 * `GITHUB_WEBHOOK_SECRET`. Checked before the server starts, so a missing or malformed value is one clear error at
 * startup, not a 401 on the first delivery. Error messages name the variable and what is wrong, never its value.
 */
import { createPrivateKey } from "node:crypto";
import { readFile } from "node:fs/promises";

/** The App's credentials, checked. */
export interface AppConfig {
  /** The App's numeric id (the App settings page, "App ID"). */
  appId: number;
  /** The App's private key, PEM (PKCS#1 `RSA PRIVATE KEY` as GitHub serves it, or PKCS#8). Never logged. */
  privateKey: string;
  /** The webhook secret set in the App settings; signs every delivery. Never logged. */
  webhookSecret: string;
}

/** Thrown when the configuration is missing or malformed; the message names the variable, never its value. */
export class AppConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AppConfigError";
  }
}

/** The shortest webhook secret accepted: GitHub recommends a random string with high entropy. */
export const MIN_WEBHOOK_SECRET_LENGTH = 16;

/** Largest private key file read, in bytes (an RSA 4096 PEM is about 3.3 KB). */
const MAX_KEY_BYTES = 64 * 1024;

/**
 * Checks a PEM private key: an RSA private key (GitHub App keys are RSA; App JWTs are RS256). Literal `\n`
 * sequences (a key pasted into a one-line environment variable) are turned into line breaks first.
 * @returns the PEM, normalised
 * @throws AppConfigError naming `source` when it is not a PEM RSA private key
 */
export function checkPrivateKey(pem: string, source: string): string {
  const text = (pem.includes("-----BEGIN") && !pem.includes("\n") ? pem.replace(/\\n/g, "\n") : pem).trim();
  if (!/^-----BEGIN (RSA )?PRIVATE KEY-----/.test(text)) {
    throw new AppConfigError(
      `${source} is not a PEM private key (expected "-----BEGIN RSA PRIVATE KEY-----", as in the .pem file GitHub lets you download from the App settings)`,
    );
  }
  let type: string | undefined;
  try {
    type = createPrivateKey({ key: text, format: "pem" }).asymmetricKeyType;
  } catch {
    throw new AppConfigError(
      `${source} holds a PEM block that does not parse as a private key; download a new key from the App settings`,
    );
  }
  if (type !== "rsa") {
    throw new AppConfigError(`${source} is a ${type ?? "non-RSA"} key; GitHub App keys are RSA (RS256 JWTs)`);
  }
  return `${text}\n`;
}

/**
 * Reads and checks the App configuration from `env`.
 * @throws AppConfigError when a variable is missing or malformed: `GITHUB_APP_ID` not a positive integer; neither or
 *   both of `GITHUB_APP_PRIVATE_KEY` and `GITHUB_APP_PRIVATE_KEY_PATH`; the key file unreadable or not an RSA PEM
 *   private key; `GITHUB_WEBHOOK_SECRET` missing or shorter than 16 characters
 */
export async function loadAppConfig(env: NodeJS.ProcessEnv = process.env): Promise<AppConfig> {
  const problems: string[] = [];
  const rawId = env.GITHUB_APP_ID?.trim() ?? "";
  let appId = 0;
  if (rawId === "") problems.push("GITHUB_APP_ID is not set; it is the numeric App ID from the App settings page");
  else if (!/^[1-9][0-9]{0,15}$/.test(rawId)) {
    problems.push("GITHUB_APP_ID is not a positive integer; use the numeric App ID (not the client id or the slug)");
  } else appId = Number(rawId);

  const inline = env.GITHUB_APP_PRIVATE_KEY ?? "";
  const keyPath = env.GITHUB_APP_PRIVATE_KEY_PATH ?? "";
  let privateKey = "";
  if (inline !== "" && keyPath !== "") {
    problems.push("both GITHUB_APP_PRIVATE_KEY and GITHUB_APP_PRIVATE_KEY_PATH are set; set only one");
  } else if (inline === "" && keyPath === "") {
    problems.push(
      "the App's private key is missing: set GITHUB_APP_PRIVATE_KEY_PATH to the .pem file (or GITHUB_APP_PRIVATE_KEY to its content)",
    );
  } else {
    try {
      let pem = inline;
      if (keyPath !== "") {
        const bytes = await readFile(keyPath).catch((error: NodeJS.ErrnoException) => {
          throw new AppConfigError(
            `GITHUB_APP_PRIVATE_KEY_PATH names a file that cannot be read (${error.code ?? "read error"}): ${JSON.stringify(keyPath)}`,
          );
        });
        if (bytes.length > MAX_KEY_BYTES) {
          throw new AppConfigError("GITHUB_APP_PRIVATE_KEY_PATH names a file too large to be a private key");
        }
        pem = bytes.toString("utf8");
      }
      privateKey = checkPrivateKey(
        pem,
        keyPath !== "" ? "the file GITHUB_APP_PRIVATE_KEY_PATH names" : "GITHUB_APP_PRIVATE_KEY",
      );
    } catch (error) {
      if (!(error instanceof AppConfigError)) throw error;
      problems.push(error.message);
    }
  }

  const webhookSecret = env.GITHUB_WEBHOOK_SECRET ?? "";
  if (webhookSecret === "") {
    problems.push("GITHUB_WEBHOOK_SECRET is not set; it is the webhook secret from the App settings");
  } else if (webhookSecret.length < MIN_WEBHOOK_SECRET_LENGTH) {
    problems.push(
      `GITHUB_WEBHOOK_SECRET is shorter than ${MIN_WEBHOOK_SECRET_LENGTH} characters; set a long random secret in the App settings and here`,
    );
  }
  if (problems.length > 0) throw new AppConfigError(problems.join("\n"));
  return { appId, privateKey, webhookSecret };
}
