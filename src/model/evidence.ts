/**
 * Evidence is plain JSON data so it can be saved, re-rendered and re-graded later.
 * `kind` tells reporters how to draw it; unknown kinds are shown as a JSON table.
 */
export type Evidence = { kind: string; [key: string]: unknown };
