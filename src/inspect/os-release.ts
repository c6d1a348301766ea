/**
 * /etc/os-release: which distribution (and family) a lab host runs.
 */

import { splitLines } from "./common.js";

// =======================================================================================
// /etc/os-release

export interface OsRelease {
  id?: string;
  idLike: string[];
  family: "debian" | "rhel" | "other";
  prettyName?: string;
  versionId?: string;
  fields: Record<string, string>;
}

const DEBIAN_LIKE = new Set(["debian", "ubuntu", "raspbian", "linuxmint", "kali", "devuan", "pop", "elementary", "zorin"]);
const RHEL_LIKE = new Set(["rhel", "fedora", "centos", "rocky", "almalinux", "ol", "amzn", "scientific", "eurolinux", "circle"]);

function unquoteOsRelease(value: string): string {
  const trimmed = value.trim();
  if (trimmed.length >= 2 && (trimmed[0] === '"' || trimmed[0] === "'") && trimmed.endsWith(trimmed[0] as string)) {
    const inner = trimmed.slice(1, -1);
    return trimmed[0] === '"' ? inner.replace(/\\(["\\`$])/g, "$1") : inner;
  }
  return trimmed;
}

export function parseOsRelease(text: string): OsRelease {
  const fields: Record<string, string> = {};
  for (const line of splitLines(typeof text === "string" ? text : "")) {
    const match = /^\s*([A-Z0-9_]+)\s*=(.*)$/.exec(line);
    if (match) fields[match[1] as string] = unquoteOsRelease(match[2] as string);
  }
  const id = fields.ID?.toLowerCase();
  const idLike = (fields.ID_LIKE ?? "").toLowerCase().split(/\s+/).filter((word) => word !== "");
  const all = [id, ...idLike].filter((word): word is string => word !== undefined);
  const family = all.some((word) => DEBIAN_LIKE.has(word)) ? "debian" : all.some((word) => RHEL_LIKE.has(word)) ? "rhel" : "other";
  const result: OsRelease = { idLike, family, fields };
  if (id !== undefined) result.id = id;
  if (fields.PRETTY_NAME !== undefined) result.prettyName = fields.PRETTY_NAME;
  if (fields.VERSION_ID !== undefined) result.versionId = fields.VERSION_ID;
  return result;
}
