/**
 * A worker thread of `parse-pool.ts`: parses the texts it is sent (`parseYamlText`, detached) and posts the results
 * back in the same order. Message in: `{ texts: string[] }`; out: `{ parsed: ParsedYamlFile[] }` or `{ error }`.
 */
import { parentPort } from "node:worker_threads";
import { parseYamlText } from "./parse.js";

const port = parentPort;
port?.on("message", (message: { texts: string[] }) => {
  try {
    port.postMessage({ parsed: message.texts.map((text) => parseYamlText(text, true)) });
  } catch (error) {
    port.postMessage({ error: error instanceof Error ? error.message : String(error) });
  }
});
