/**
 * The evidence contract, proven by the compiler (`npm run typecheck` compiles this file; each
 * `@ts-expect-error` fails the typecheck if the line below it ever compiles) and by a few runs.
 */
import { describe, expect, it } from "vitest";
import { ev, type Evidence, type KnownEvidence, type Lang, type RenderersFor } from "../../src/model/index.js";
import { EVIDENCE_TITLES } from "../../src/report/evidence-words.js";
import { TEXT } from "../../src/report/evidence-text.js";
import { HTML, type HtmlPage } from "../../src/report/html-evidence.js";

/** Evidence as it would be with one kind more. */
type WithNewKind = KnownEvidence | { kind: "future-kind"; note: string };

// A new kind without its renderers does not compile: every reporter's table must name it.
// @ts-expect-error the text renderers have no "future-kind"
const textWithNewKind: RenderersFor<WithNewKind, string[], Lang> = TEXT;
// @ts-expect-error the HTML renderers have no "future-kind"
const htmlWithNewKind: RenderersFor<WithNewKind, string, HtmlPage> = HTML;

// A table that misses a kind of today does not compile either.
const { sample: _sample, ...withoutSample } = TEXT;
// @ts-expect-error no renderer for "sample"
const textWithoutSample: RenderersFor<KnownEvidence, string[], Lang> = withoutSample;

// Evidence a reporter cannot draw does not compile: net.vip-http's old hand-built shape...
// @ts-expect-error an http-request needs ok, status or error, attempts and latency
const oldVipHttp: Evidence = { kind: "http-request", url: "http://10.0.0.10/", result: {} };
// ...an unknown kind...
// @ts-expect-error no such kind
const unknownKind: Evidence = { kind: "gateway-list", seen: [] };
// ...nor a constructor given the wrong fields.
// @ts-expect-error rules is a list of the rules' texts
const badRules = ev.natRules({ rules: "masquerade", uncovered: [] });

void [textWithNewKind, htmlWithNewKind, textWithoutSample, oldVipHttp, unknownKind, badRules];

describe("evidence kinds", () => {
  it("each have a title in both languages, a text renderer and an HTML renderer", () => {
    const kinds = Object.keys(EVIDENCE_TITLES);
    expect(kinds.length).toBeGreaterThan(25);
    for (const kind of kinds) {
      expect(typeof TEXT[kind as KnownEvidence["kind"]], kind).toBe("function");
      expect(typeof HTML[kind as KnownEvidence["kind"]], kind).toBe("function");
      expect(EVIDENCE_TITLES[kind as KnownEvidence["kind"]].es).not.toBe(EVIDENCE_TITLES[kind as KnownEvidence["kind"]].en);
    }
    expect(Object.keys(TEXT).sort()).toEqual(kinds.sort());
    expect(Object.keys(HTML).sort()).toEqual(kinds.sort());
    expect(Object.keys(ev).length).toBe(kinds.length);
  });

  it("are made by their constructor with their kind", () => {
    expect(ev.natRules({ rules: ["oifname eth0 masquerade"], uncovered: [] })).toEqual({ kind: "nat-rules", rules: ["oifname eth0 masquerade"], uncovered: [] });
    expect(ev.budget({}).kind).toBe("budget");
  });
});
