import type { FetchResult, RequestRecord } from "../probe/index.js";
import { ev, type HttpRequestEvidence, type SampleEvidence } from "../model/index.js";

const BODY_EXCERPT_CHARS = 600;

/** One request as evidence: the page excerpt is kept short (reports escape it when they show it). */
export function requestEvidence(url: string, r: FetchResult): HttpRequestEvidence {
  if (!r.ok) {
    return ev.httpRequest({
      url,
      ok: false,
      error: { class: r.error.class, message: r.error.message },
      ...(r.status !== undefined ? { status: r.status } : {}),
      attempts: r.attempts,
      latencyMs: r.latencyMs,
    });
  }
  return ev.httpRequest({
    url,
    ok: true,
    status: r.status,
    backend: r.backend ?? null,
    label: r.label ?? null,
    headers: r.headers,
    setCookie: r.setCookie,
    bodyExcerpt: r.body.slice(0, BODY_EXCERPT_CHARS),
    latencyMs: r.latencyMs,
    attempts: r.attempts,
  });
}

/** Count of each label (backend name, unknown:…, unidentified, error:…) in a sequence of records. */
export function countLabels(records: readonly RequestRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of records) counts[r.label] = (counts[r.label] ?? 0) + 1;
  return counts;
}

/** What a sample may carry besides its answers. */
export type SampleExtra = Partial<Omit<SampleEvidence, "kind" | "name" | "mode" | "n" | "counts" | "connections" | "sequence" | "errors">>;

/**
 * A sample as evidence: the compact sequence (reporters draw it as coloured blocks) plus counts.
 * Records are trimmed to what a report shows; the full list would bloat the JSON.
 */
export function sampleEvidence(name: string, mode: string, records: readonly RequestRecord[], extra: SampleExtra = {}): SampleEvidence {
  return ev.sample({
    name,
    mode,
    n: records.length,
    counts: countLabels(records),
    connections: new Set(records.map((r) => r.connectionId).filter((c) => c !== null)).size,
    sequence: records.map((r) => r.label),
    errors: records
      .flatMap((r) => (r.error ? [{ seq: r.seq, class: r.error.class, message: r.error.message }] : []))
      .slice(0, 5),
    ...extra,
  });
}
