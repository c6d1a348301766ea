/**
 * Runs as another user for local.test.ts: the balancer's commands on this machine with the given
 * sudo mode; prints what each command saw as JSON.
 */
import { SshError, SshPool, type SudoMode } from "../../src/ssh/index.js";

const mode = (process.argv[2] ?? "auto") as SudoMode;
const pool = new SshPool([{ name: "balancer", host: "localhost", port: 22, user: "root", local: true }], {
  acceptNewHostKeys: false,
  connectTimeoutMs: 5000,
  execTimeoutMs: 10_000,
  sudo: mode,
});
const host = pool.get("balancer");
const run = async (options: { sudo?: boolean; asLogin?: boolean }) => {
  try {
    return (await host.exec("id -u", options)).stdout.trim();
  } catch (error) {
    return error instanceof SshError ? `error:${error.kind}` : `error:${String(error)}`;
  }
};
const out = { plain: await run({}), root: await run({ sudo: true }), login: await run({ asLogin: true }), sudoUsed: [] as boolean[] };
out.sudoUsed = pool.commandLog().filter((r) => r.command === "id -u").map((r) => r.sudo);
await pool.closeAll();
process.stdout.write(`${JSON.stringify(out)}\n`);
