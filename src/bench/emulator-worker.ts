/**
 * Runs the emulator in a worker thread for the benchmark, so its own CPU time (routing, validation, cloning,
 * JSON) does not share the event loop with the client being measured: like a real API, the server's cost is the
 * injected latency, not the client's. Messages: `{ id, op: "stats" | "reset" | "close" }` in, `{ id, result }` out;
 * `{ ready: url }` (or `{ error }`) once listening. Started by `bench.ts`; not meant to be run directly.
 */
import { parentPort, workerData } from "node:worker_threads";
import { type EmulatorOptions, startEmulator } from "../emulator/index.js";

/** A request from the benchmark to the worker. */
export interface WorkerRequest {
  id: number;
  op: "stats" | "reset" | "close";
}

const port = parentPort;
if (port) {
  try {
    const emulator = await startEmulator(workerData as EmulatorOptions);
    port.on("message", async (message: WorkerRequest) => {
      if (message.op === "stats") port.postMessage({ id: message.id, result: emulator.stats() });
      else if (message.op === "reset") {
        emulator.resetStats();
        port.postMessage({ id: message.id, result: null });
      } else {
        await emulator.close();
        port.postMessage({ id: message.id, result: null });
        port.close();
      }
    });
    port.postMessage({ ready: emulator.url });
  } catch (error) {
    port.postMessage({ error: error instanceof Error ? error.message : String(error) });
  }
}
