/**
 * Baseline (c): hagrade's probe loop against `curl` in a shell loop, the same number of
 * new-connection requests to the same VIP, from the grader's side of the lab.
 */
import { execFile } from "node:child_process";
import type { LabSpec } from "../../src/config/index.js";
import { sample } from "../../src/probe/index.js";
import { identifierFor } from "../../src/runner/context.js";
import { median } from "./figures.js";

export interface ProbeLoopRun {
  hagradeMs: number;
  /** The same loop under the spec's rate bound, as a grade samples. */
  hagradeBoundedMs: number;
  curlMs: number;
  /** Answers with status 200 (both sides must have reached the lab for the times to mean anything). */
  hagradeOk: number;
  curlOk: number;
}

export interface ProbeLoopBench {
  requests: number;
  ratePerSecond: number;
  runs: ProbeLoopRun[];
  hagradeMs: number;
  hagradeBoundedMs: number;
  curlMs: number;
  /** hagrade / curl wall time: below 1, hagrade's loop is faster. */
  ratio: number;
  boundedRatio: number;
}

/** Effectively no rate bound: the loop's own speed. */
const UNBOUNDED_RATE = 1_000_000;

async function hagradeLoop(spec: LabSpec, requests: number, ratePerSecond: number): Promise<{ ms: number; ok: number }> {
  const started = performance.now();
  const s = await sample(
    { address: spec.vip.address, port: spec.vip.port, path: spec.vip.path, ...(spec.vip.host ? { host: spec.vip.host } : {}) },
    {
      mode: "new-connection",
      maxRequests: requests,
      ratePerSecond,
      identify: identifierFor(spec),
      deadlineMs: 60_000,
      maxConsecutiveErrors: 10,
    },
  );
  return { ms: performance.now() - started, ok: s.records.filter((r) => r.status === 200).length };
}

/** curl in a bash loop: one process and one connection per request, as a shell script would probe. */
export function curlLoopScript(url: string, requests: number): string {
  return `for i in $(seq ${requests}); do curl -s -m 5 -o /dev/null -w '%{http_code}\\n' '${url}'; done`;
}

function curlLoop(spec: LabSpec, requests: number): Promise<{ ms: number; ok: number }> {
  const host = spec.vip.host ?? spec.vip.address;
  const url = `http://${spec.vip.address}:${spec.vip.port}${spec.vip.path}`;
  const script = spec.vip.host ? curlLoopScript(url, requests).replace("curl -s", `curl -s -H 'Host: ${host}'`) : curlLoopScript(url, requests);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile("bash", ["-c", script], { timeout: 120_000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout) => {
      if (error) return reject(new Error(`the curl loop failed: ${error.message}`));
      resolve({ ms: performance.now() - started, ok: stdout.split("\n").filter((l) => l.trim() === "200").length });
    });
  });
}

/** Runs the three loops `runs` times, interleaved so a machine's slow spell hits all three alike. */
export async function probeLoopVsCurl(spec: LabSpec, requests: number, runs: number): Promise<ProbeLoopBench> {
  const out: ProbeLoopRun[] = [];
  for (let i = 0; i < runs; i++) {
    const fast = await hagradeLoop(spec, requests, UNBOUNDED_RATE);
    const bounded = await hagradeLoop(spec, requests, spec.sampling.ratePerSecond);
    const curl = await curlLoop(spec, requests);
    out.push({ hagradeMs: fast.ms, hagradeBoundedMs: bounded.ms, curlMs: curl.ms, hagradeOk: fast.ok, curlOk: curl.ok });
  }
  const m = (get: (r: ProbeLoopRun) => number) => Math.round(median(out.map(get)) ?? 0);
  const hagradeMs = m((r) => r.hagradeMs);
  const hagradeBoundedMs = m((r) => r.hagradeBoundedMs);
  const curlMs = m((r) => r.curlMs);
  return {
    requests,
    ratePerSecond: spec.sampling.ratePerSecond,
    runs: out.map((r) => ({ ...r, hagradeMs: Math.round(r.hagradeMs), hagradeBoundedMs: Math.round(r.hagradeBoundedMs), curlMs: Math.round(r.curlMs) })),
    hagradeMs,
    hagradeBoundedMs,
    curlMs,
    ratio: curlMs > 0 ? hagradeMs / curlMs : Number.NaN,
    boundedRatio: curlMs > 0 ? hagradeBoundedMs / curlMs : Number.NaN,
  };
}
