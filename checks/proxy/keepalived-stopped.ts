import { defineCheck, ev, fail, pass, remote, text } from "../../src/runner/check.js";
import { findProcesses, parseProcessList } from "../../src/inspect/index.js";

/** Part 2, step 1: keepalived is stopped so that it does not interfere with the reverse proxy. */
export default defineCheck({
  id: "proxy.keepalived-stopped",
  part: "proxy",
  title: text("keepalived detenido en el balanceador", "keepalived stopped on the balancer"),
  points: 1,
  needs: ["ssh"],
  async run(ctx) {
    const r = await remote(ctx).exec("balancer", "ps -eo pid,comm,args");
    const running = findProcesses(parseProcessList(r.stdout), "keepalived");
    const evidence = [ev.processes({ name: "keepalived", found: running.map((p) => ({ pid: p.pid, args: (p.args ?? p.comm ?? "").slice(0, 200) })) })];
    if (running.length === 0) return pass(text("keepalived no se está ejecutando.", "keepalived is not running."), evidence);
    return fail(
      text(`keepalived sigue en ejecución (PID ${running.map((p) => p.pid).join(", ")}).`, `keepalived is still running (PID ${running.map((p) => p.pid).join(", ")}).`),
      text(
        "Deténgalo: service keepalived stop (o systemctl stop keepalived; systemctl disable keepalived para que no arranque con el sistema).",
        "Stop it: service keepalived stop (or systemctl stop keepalived; systemctl disable keepalived so it does not start at boot).",
      ),
      evidence,
    );
  },
});
