/** The two languages the lab is taught in. */
export type Lang = "es" | "en";

/** A text in both languages the lab is taught in. */
export interface Text {
  es: string;
  en: string;
}

export const text = (es: string, en: string): Text => ({ es, en });

export function isText(v: unknown): v is Text {
  return typeof v === "object" && v !== null && typeof (v as Text).es === "string" && typeof (v as Text).en === "string";
}

/**
 * Text that came from a student's machine (pages, headers, command output) may carry terminal
 * escape sequences: they are made visible, never written raw.
 */
export function safeForTerminal(text: string): string {
  // C0 controls except tab/newline, DEL, and C1 controls (0x80–0x9f, e.g. the 8-bit CSI).
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
