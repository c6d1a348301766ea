import { defineCheck, ev, fail, inconclusive, pass, remote, text } from "../../src/runner/check.js";
import type { CheckContext } from "../../src/runner/context.js";
import { endMarked, readEndMarked } from "../../src/runner/complete.js";
import type { IpvsTable } from "../../src/inspect/index.js";
import type { Text } from "../../src/model/index.js";
import { optionalVipService, weightedStep } from "./ipvs.js";

/** The modules the lab text names (Part 1, step 3): ip_vs and both schedulers' modules. */
export const LAB_TEXT_MODULES = ["ip_vs", "ip_vs_rr", "ip_vs_wrr"] as const;

/** One line of /proc/modules: name size refcount deps state address. */
const PROC_MODULES_LINE = /^([A-Za-z0-9_]+) \d+ (?:\d+|-) \S+ (?:Live|Loading|Unloading)(?: |$)/;
const SCHEDULER = /^[a-z]{1,16}$/;

export type ProcModules = { ok: true; loaded: Set<string> } | { ok: false; why: Text };

/** /proc/modules, every line in its format; anything else (empty, cut, noise) is no list. */
export function parseProcModules(output: string): ProcModules {
  const lines = output.split("\n").filter((l) => l.trim() !== "");
  if (lines.length === 0) return { ok: false, why: text("/proc/modules está vacío", "/proc/modules is empty") };
  const loaded = new Set<string>();
  for (const line of lines) {
    const name = PROC_MODULES_LINE.exec(line)?.[1];
    if (name === undefined) return { ok: false, why: text(`/proc/modules tiene una línea que no es de un módulo: ${line.slice(0, 80)}`, `/proc/modules has a line that is no module's: ${line.slice(0, 80)}`) };
    loaded.add(name);
  }
  return { ok: true, loaded };
}

/** Where the required modules come from. */
export type ModulesSource = "expect.modules" | "ipvs-table" | "expect.lbAlgo" | "step";

export interface ModulesRequirement {
  required: string[];
  source: ModulesSource;
  /** The schedulers the required modules serve (empty for a teacher's list). */
  schedulers: string[];
}

/**
 * The modules a lab needs: the teacher's exact list when `expect.modules` is set; else ip_vs and
 * the modules of the schedulers the IPVS table's virtual services use (keepalived loads them);
 * with no service in the table, the scheduler the spec (or the lab step) expects.
 */
export function requiredModules(
  expected: { modules?: readonly string[]; lbAlgo?: string },
  table: IpvsTable | undefined,
  weighted: boolean,
): ModulesRequirement {
  if (expected.modules !== undefined) return { required: [...new Set(expected.modules.map(moduleName))], source: "expect.modules", schedulers: [] };
  const inTable = [...new Set((table?.services ?? []).map((s) => s.scheduler).filter((s): s is string => s !== undefined && SCHEDULER.test(s)))].sort();
  const [schedulers, source]: [string[], ModulesSource] =
    inTable.length > 0 ? [inTable, "ipvs-table"] : expected.lbAlgo !== undefined ? [[expected.lbAlgo], "expect.lbAlgo"] : [[weighted ? "wrr" : "rr"], "step"];
  return { required: ["ip_vs", ...schedulers.map((s) => `ip_vs_${s}`)], source, schedulers };
}

/** The kernel lists a module with `_` where modprobe accepts `-` too. */
export function moduleName(name: string): string {
  return name.replace(/-/g, "_");
}

export interface ModulesJudgement {
  outcome: "pass" | "fail";
  required: string[];
  missing: string[];
  /** Modules the lab text mentions that this lab does not need and has not loaded. */
  notNeeded: string[];
  message: Text;
  fix?: Text;
}

function sourceText(req: ModulesRequirement): Text {
  const list = req.schedulers.join(", ");
  switch (req.source) {
    case "expect.modules":
      return text("la lista expect.modules del spec", "the spec's expect.modules list");
    case "ipvs-table":
      return text(`ip_vs y el módulo del planificador que usa el servicio virtual (${list}, según ipvsadm -Ln)`, `ip_vs and the module of the scheduler the virtual service uses (${list}, from ipvsadm -Ln)`);
    case "expect.lbAlgo":
      return text(`ip_vs y el módulo del planificador que pide el spec (expect.lbAlgo ${list}; IPVS no tiene aún ningún servicio)`, `ip_vs and the module of the scheduler the spec asks for (expect.lbAlgo ${list}; IPVS has no service yet)`);
    case "step":
      return text(`ip_vs y el módulo del planificador de este paso (${list}; IPVS no tiene aún ningún servicio)`, `ip_vs and the module of this step's scheduler (${list}; IPVS has no service yet)`);
  }
}

/** The verdict on a whole /proc/modules list. */
export function judgeModules(loaded: ReadonlySet<string>, req: ModulesRequirement): ModulesJudgement {
  const missing = req.required.filter((m) => !loaded.has(m));
  const notNeeded = req.source === "expect.modules" ? [] : LAB_TEXT_MODULES.filter((m) => !req.required.includes(m) && !loaded.has(m));
  const why = sourceText(req);
  const aside = notNeeded.length
    ? text(
        ` El texto de la práctica menciona también ${notNeeded.join(", ")}, que este paso no necesita (se carga con modprobe ${notNeeded.join(" ")} si se cambia de planificador).`,
        ` The lab text also mentions ${notNeeded.join(", ")}, which this step does not need (modprobe ${notNeeded.join(" ")} loads it when the scheduler changes).`,
      )
    : text("", "");
  if (missing.length === 0) {
    return {
      outcome: "pass",
      required: req.required,
      missing,
      notNeeded,
      message: text(`Cargados: ${req.required.join(", ")} (${why.es}).${aside.es}`, `Loaded: ${req.required.join(", ")} (${why.en}).${aside.en}`),
    };
  }
  const present = req.required.filter((m) => loaded.has(m));
  // modprobe of a scheduler's module loads ip_vs by dependency; ip_vs alone only when it is all that is missing.
  const toLoad = missing.filter((m) => m !== "ip_vs" || missing.length === 1);
  return {
    outcome: "fail",
    required: req.required,
    missing,
    notNeeded,
    message: text(
      `Faltan módulos del kernel en el balanceador: ${missing.join(", ")} (necesarios: ${why.es}; cargados: ${present.join(", ") || "ninguno"}).${aside.es}`,
      `Kernel modules missing on the balancer: ${missing.join(", ")} (required: ${why.en}; loaded: ${present.join(", ") || "none"}).${aside.en}`,
    ),
    fix: text(
      `modprobe ${toLoad.join(" ")}; para que sobrevivan al reinicio, añada ${missing.join(", ")} a /etc/modules.`,
      `modprobe ${toLoad.join(" ")}; to keep them after a reboot, add ${missing.join(", ")} to /etc/modules.`,
    ),
  };
}

/**
 * Part 1, step 3: the IPVS modules the lab's virtual servers need. Read from /proc/modules, whole,
 * before ipvsadm: running ipvsadm loads ip_vs by itself and would hide a missing modprobe.
 * keepalived loads ip_vs and the scheduler it uses; the other scheduler's module is not needed.
 */
export default defineCheck({
  id: "lvs.modules",
  part: "lvs",
  title: text("Módulos ip_vs cargados en el balanceador", "ip_vs modules loaded on the balancer"),
  points: 1,
  needs: ["ssh"],
  async run(ctx) {
    const r = await remote(ctx).exec("balancer", endMarked("cat /proc/modules"));
    const marked = readEndMarked(r.stdout);
    const read: ProcModules = !marked.complete
      ? { ok: false, why: text("la salida llegó incompleta", "its output came incomplete") }
      : marked.status !== 0
        ? { ok: false, why: text(`cat /proc/modules terminó con el estado ${marked.status}`, `cat /proc/modules exited with status ${marked.status}`) }
        : parseProcModules(marked.output);
    if (!read.ok) {
      return inconclusive(
        text(`No se pudo leer /proc/modules en el balanceador: ${read.why.es}.`, `Could not read /proc/modules on the balancer: ${read.why.en}.`),
        text("Compruebe que el balanceador es una máquina Linux con módulos (no un contenedor sin /proc/modules).", "Check the balancer is a Linux machine with modules (not a container without /proc/modules)."),
        [ev.kernelModules({ required: [], loaded: [] })],
      );
    }
    const req = requiredModules(ctx.spec.expect, await tableOf(ctx, read.loaded), weightedStep(ctx));
    const verdict = judgeModules(read.loaded, req);
    const shown = [...read.loaded].filter((m) => m.startsWith("ip_vs") || req.required.includes(m)).sort();
    const evidence = [ev.kernelModules({ required: req.required, loaded: shown, requiredFrom: req.source, notNeeded: verdict.notNeeded })];
    return verdict.outcome === "pass" ? pass(verdict.message, evidence) : fail(verdict.message, verdict.fix!, evidence);
  },
});

/** The IPVS table when ip_vs is loaded and SSH reads it whole (ipvsadm is not run otherwise). */
async function tableOf(ctx: CheckContext, loaded: ReadonlySet<string>): Promise<IpvsTable | undefined> {
  if (ctx.spec.expect.modules !== undefined || !loaded.has("ip_vs")) return undefined;
  return (await optionalVipService(ctx))?.table;
}
