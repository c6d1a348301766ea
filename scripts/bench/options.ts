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
}

export type ParsedOptions = { ok: true; options: BenchOptions } | { ok: false; message: string };

export const USAGE =
  "usage: npm run bench -- [--quick] [--runs N] [--part proxy|lvs|all] [--out DIR]\n" +
  "  --quick   3 runs, Part 2 only, no disruptive grade (a few minutes; what CI runs)\n" +
  "  --runs N  runs per figure, 1..50 (default 5; the disruptive grade: min(N, 3))\n" +
  "  --part    which reference labs: proxy (netns), lvs (qemu VM), all (default; --quick: proxy)\n" +
  "  --out     folder of bench.json (default reports/bench)";

export function parseBenchArgs(argv: readonly string[]): ParsedOptions {
  let quick = false;
  let runs: number | undefined;
  let part: BenchOptions["part"] | undefined;
  let out = "reports/bench";
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
  const finalRuns = runs ?? (quick ? 3 : 5);
  return {
    ok: true,
    options: {
      quick,
      runs: finalRuns,
      disruptiveRuns: Math.min(finalRuns, 3),
      part: part ?? (quick ? "proxy" : "all"),
      out,
      loopRequests: quick ? 100 : 200,
      parallel: [1, 4, 8],
    },
  };
}
