/** `npm run bench` options. Bad input is a one-line message naming the option and the fix. */

export interface BenchOptions {
  /** Fewer runs, no VM, no disruptive grade: what CI may run. */
  quick: boolean;
  /** Runs per figure (each figure is the median over them). */
  runs: number;
  /** Runs of the disruptive grade (each waits out Apache's 60 s retry). */
  disruptiveRuns: number;
  part: "proxy" | "lvs" | "all";
  out: string;
  /** New-connection requests of the probe-loop comparison with curl. */
  loopRequests: number;
  /** Labs graded side by side. */
  parallel: number[];
  /** Reference labs of the class figure (graded with --disruptive as `hagrade batch` grades a class); 0: none. */
  classLabs: number;
}

export type ParsedOptions = { ok: true; options: BenchOptions } | { ok: false; message: string };

export const USAGE =
  "usage: npm run bench -- [--quick] [--runs N] [--part proxy|lvs|all] [--class N] [--out DIR]\n" +
  "  --quick   3 runs, Part 2 only, no disruptive grade, no class (a few minutes; what CI runs)\n" +
  "  --runs N  runs per figure, 1..50 (default 5; the disruptive grade: min(N, 3))\n" +
  "  --part    which reference labs: proxy (netns), lvs (qemu VM), all (default; --quick: proxy)\n" +
  "  --class N N Part 2 labs graded with --disruptive side by side, beside one alone, 0..100\n" +
  "            (default 30; 0 with --quick or --part lvs; 0: no class figure)\n" +
  "  --out     folder of bench.json (default reports/bench)";

export function parseBenchArgs(argv: readonly string[]): ParsedOptions {
  let quick = false;
  let runs: number | undefined;
  let part: BenchOptions["part"] | undefined;
  let out = "reports/bench";
  let classLabs: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const [name, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (name) {
      case "--quick":
        quick = true;
        break;
      case "--runs": {
        const v = value();
        const n = Number(v);
        if (!v || !Number.isInteger(n) || n < 1 || n > 50) return { ok: false, message: `--runs: expected a whole number from 1 to 50, got '${v ?? ""}' (e.g. --runs 5)` };
        runs = n;
        break;
      }
      case "--part": {
        const v = value();
        if (v !== "proxy" && v !== "lvs" && v !== "all") return { ok: false, message: `--part: expected proxy, lvs or all, got '${v ?? ""}'` };
        part = v;
        break;
      }
      case "--class": {
        const v = value();
        const n = Number(v);
        if (!v || !Number.isInteger(n) || n < 0 || n > 100) return { ok: false, message: `--class: expected a number of labs from 0 to 100, got '${v ?? ""}' (e.g. --class 30; 0: no class figure)` };
        classLabs = n;
        break;
      }
      case "--out": {
        const v = value();
        if (!v) return { ok: false, message: "--out: expected a folder (e.g. --out reports/bench)" };
        out = v;
        break;
      }
      case "--help":
      case "-h":
        return { ok: false, message: USAGE };
      default:
        return { ok: false, message: `unknown option '${arg}'\n${USAGE}` };
    }
  }
  if (quick && part && part !== "proxy") {
    return { ok: false, message: `--quick runs no VM: drop --quick to bench --part ${part}, or use --part proxy` };
  }
  if (part === "lvs" && classLabs) {
    return { ok: false, message: "--class grades Part 2 (netns) labs: drop --class, or use --part proxy or all" };
  }
  const finalRuns = runs ?? (quick ? 3 : 5);
  const finalPart = part ?? (quick ? "proxy" : "all");
  return {
    ok: true,
    options: {
      quick,
      runs: finalRuns,
      disruptiveRuns: Math.min(finalRuns, 3),
      part: finalPart,
      out,
      loopRequests: quick ? 100 : 200,
      parallel: [1, 4, 8],
      classLabs: classLabs ?? (quick || finalPart === "lvs" ? 0 : 30),
    },
  };
}
