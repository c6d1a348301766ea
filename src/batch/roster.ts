/**
 * A class roster: one row per student, with the fields that differ from the course's spec
 * template (VIP, addresses, SSH credentials by reference). CSV as a spreadsheet or an LMS exports
 * it, or a YAML/JSON list.
 *
 * Columns `id`, `name`, `email` name the student; `lab` names the lab (default: the id); `spec`
 * points to a whole spec file for a student whose lab is laid out differently; any other column is
 * a dotted path into the spec (`vip.address`, `backends.0.address`, `ssh.password.env`) whose
 * value overrides the template's.
 */
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import { parse as parseYaml } from "yaml";
import type { SpecOverrides } from "../config/load.js";
import type { Text } from "../model/index.js";

export interface RosterEntry {
  /** 0-based position in the roster: the order of every class output, and the shard key. */
  index: number;
  /** Row (CSV: line of the row; YAML: item number, 1-based) for messages. */
  row: number;
  id: string;
  name?: string;
  email?: string;
  /** Folder name of the lab's reports; unique in the roster. */
  lab: string;
  /** A whole spec file for this student (absolute), instead of the template. */
  specFile?: string;
  overrides: SpecOverrides;
}

export interface RosterProblem {
  row?: number;
  column?: string;
  message: Text;
  fix: Text;
}

export type RosterLoad = { ok: true; entries: RosterEntry[]; file: string } | { ok: false; problems: RosterProblem[] };

const STUDENT_COLUMNS = new Set(["id", "name", "email", "lab", "spec"]);
const LAB_NAME = /^[A-Za-z0-9._-]{1,64}$/;
/** A roster of a whole university course fits; more is a wrong file. */
const MAX_ROSTER_BYTES = 5 * 1024 * 1024;
/**
 * Top-level spec fields a column may set. Others (a typo like `vip.adress` would be caught by
 * the spec's own validation) are checked there; this list only catches a misplaced column early.
 */
const SPEC_ROOTS = new Set([
  "lab", "student", "lang", "part", "step", "vip", "grader", "balancer", "backends", "identity",
  "expect", "ssh", "rubric", "timeouts", "sampling",
]);

export async function loadRoster(file: string): Promise<RosterLoad> {
  const absolute = path.resolve(file);
  let bytes: Buffer;
  try {
    const info = await stat(absolute);
    if (info.isDirectory()) return failure({ es: `${absolute} es una carpeta, no una lista de alumnos.`, en: `${absolute} is a folder, not a roster.` }, { es: "Indique el fichero CSV o YAML de la lista.", en: "Give the roster's CSV or YAML file." });
    if (info.size > MAX_ROSTER_BYTES) return failure({ es: `La lista ocupa ${info.size} bytes (máximo ${MAX_ROSTER_BYTES}).`, en: `The roster is ${info.size} bytes (at most ${MAX_ROSTER_BYTES}).` }, { es: "Compruebe que es el fichero correcto.", en: "Check it is the right file." });
    bytes = await readFile(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    return failure(
      code === "ENOENT" ? { es: `No existe la lista de alumnos ${absolute}.`, en: `Roster ${absolute} does not exist.` } : { es: `No se puede leer ${absolute} (${code}).`, en: `Cannot read ${absolute} (${code}).` },
      { es: "Corrija la ruta de --roster.", en: "Correct the --roster path." },
    );
  }
  const text = bytes.toString("utf8").replace(/^\uFEFF/, "");
  if (text.includes("\uFFFD")) {
    return failure(
      { es: "La lista no está en UTF-8 (¿exportada de Excel como ANSI?).", en: "The roster is not UTF-8 (exported from Excel as ANSI?)." },
      { es: 'Expórtela como "CSV UTF-8".', en: 'Export it as "CSV UTF-8".' },
    );
  }
  const rows = /\.(ya?ml|json)$/i.test(absolute) ? yamlRows(text) : csvRows(text);
  if (!rows.ok) return rows;
  return entriesFrom(rows.rows, path.dirname(absolute), absolute);
}

type Rows = { ok: true; rows: { row: number; cells: Record<string, unknown> }[] } | { ok: false; problems: RosterProblem[] };

function csvRows(text: string): Rows {
  // A spreadsheet in a Spanish locale exports with semicolons: take the header's separator.
  const header = text.split(/\r?\n/, 1)[0] ?? "";
  const delimiter = (header.match(/;/g)?.length ?? 0) > (header.match(/,/g)?.length ?? 0) ? ";" : ",";
  try {
    const records = parseCsv(text, {
      columns: (names: string[]) => names.map((n) => n.trim()),
      delimiter,
      skip_empty_lines: true,
      trim: true,
      info: true,
      relax_column_count: false,
    }) as { record: Record<string, string>; info: { lines: number } }[];
    return {
      ok: true,
      rows: records.map(({ record, info }) => ({ row: info.lines, cells: Object.fromEntries(Object.entries(record).filter(([, v]) => v !== "")) })),
    };
  } catch (error) {
    const e = error as { message?: string; lines?: number };
    return {
      ok: false,
      problems: [{
        ...(e.lines ? { row: e.lines } : {}),
        message: { es: `CSV mal formado: ${e.message ?? "error"}`, en: `Malformed CSV: ${e.message ?? "error"}` },
        fix: { es: "Cada fila debe tener tantas columnas como la cabecera; entrecomille los valores con comas.", en: "Each row needs as many columns as the header; quote values that contain commas." },
      }],
    };
  }
}

function yamlRows(text: string): Rows {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100, uniqueKeys: true });
  } catch (error) {
    return { ok: false, problems: [{ message: { es: `YAML mal formado: ${(error as Error).message.split("\n")[0]}`, en: `Malformed YAML: ${(error as Error).message.split("\n")[0]}` }, fix: { es: "Corrija la sintaxis de la lista.", en: "Correct the list's syntax." } }] };
  }
  const list = Array.isArray(doc) ? doc : isObject(doc) && Array.isArray(doc.students) ? doc.students : undefined;
  if (!list) {
    return { ok: false, problems: [{ message: { es: "La lista YAML debe ser una lista de alumnos (o students: [...]).", en: "A YAML roster must be a list of students (or students: [...])." }, fix: { es: "Escriba - id: A001 ... por alumno.", en: "Write - id: A001 ... per student." } }] };
  }
  const rows: { row: number; cells: Record<string, unknown> }[] = [];
  const problems: RosterProblem[] = [];
  list.forEach((item: unknown, i: number) => {
    if (!isObject(item)) {
      problems.push({ row: i + 1, message: { es: `El elemento ${i + 1} no es un mapa de campos.`, en: `Item ${i + 1} is not a map of fields.` }, fix: { es: "Escriba id:, name:, y los campos del spec.", en: "Write id:, name:, and the spec's fields." } });
      return;
    }
    // Nested spec fields (`vip: { address: ... }`) and dotted keys are both accepted.
    rows.push({ row: i + 1, cells: flatten(item) });
  });
  return problems.length ? { ok: false, problems } : { ok: true, rows };
}

function flatten(item: Record<string, unknown>, prefix = ""): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (STUDENT_COLUMNS.has(name)) out[name] = value;
    else if (isObject(value) && !isSecretRef(value)) Object.assign(out, flatten(value, name));
    else out[name] = value;
  }
  return out;
}

function entriesFrom(rows: { row: number; cells: Record<string, unknown> }[], baseDir: string, file: string): RosterLoad {
  const problems: RosterProblem[] = [];
  const entries: RosterEntry[] = [];
  const labs = new Map<string, number>();
  if (rows.length === 0) {
    return failure({ es: "La lista no tiene alumnos.", en: "The roster has no students." }, { es: "Añada una fila por alumno bajo la cabecera (id,name,email,vip.address,...).", en: "Add one row per student under the header (id,name,email,vip.address,...)." });
  }
  for (const { row, cells } of rows) {
    const id = cells.id === undefined ? "" : String(cells.id).trim();
    if (!id) {
      problems.push({ row, column: "id", message: { es: `Fila ${row}: falta el id del alumno.`, en: `Row ${row}: the student id is missing.` }, fix: { es: "Ponga un id único por alumno (p. ej. su número de matrícula).", en: "Give each student a unique id (e.g. their student number)." } });
      continue;
    }
    const lab = cells.lab !== undefined ? String(cells.lab) : id.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 64);
    if (!LAB_NAME.test(lab)) {
      problems.push({ row, column: "lab", message: { es: `Fila ${row}: el nombre de laboratorio "${lab}" no vale para una carpeta.`, en: `Row ${row}: lab name "${lab}" is not a valid folder name.` }, fix: { es: "Use solo letras, cifras, . _ y - (máx. 64).", en: "Use letters, digits, . _ and - only (64 at most)." } });
      continue;
    }
    const seen = labs.get(lab);
    if (seen !== undefined) {
      problems.push({ row, column: "lab", message: { es: `Fila ${row}: el laboratorio "${lab}" ya está en la fila ${seen}.`, en: `Row ${row}: lab "${lab}" is already on row ${seen}.` }, fix: { es: "Cada alumno necesita un id (o lab) distinto.", en: "Each student needs a distinct id (or lab)." } });
      continue;
    }
    labs.set(lab, row);
    const overrides: Record<string, unknown> = {};
    let rowOk = true;
    for (const [column, value] of Object.entries(cells)) {
      if (STUDENT_COLUMNS.has(column)) continue;
      const keys = column.split(".");
      if (!SPEC_ROOTS.has(keys[0]!) || keys.some((k) => k === "" || k === "__proto__" || k === "constructor" || k === "prototype")) {
        problems.push({
          row,
          column,
          message: { es: `Columna "${column}": no es un campo del spec.`, en: `Column "${column}": not a spec field.` },
          fix: { es: "Las columnas son id, name, email, lab, spec o rutas del spec con puntos (vip.address, backends.0.address, ssh.password.env).", en: "Columns are id, name, email, lab, spec or dotted spec paths (vip.address, backends.0.address, ssh.password.env)." },
        });
        rowOk = false;
        continue;
      }
      setPath(overrides, keys, typeof value === "string" ? scalar(value) : value);
    }
    if (!rowOk) continue;
    const student = { id, ...(cells.name !== undefined ? { name: String(cells.name) } : {}), ...(cells.email !== undefined ? { email: String(cells.email) } : {}) };
    entries.push({
      index: entries.length,
      row,
      id,
      ...(student.name ? { name: student.name } : {}),
      ...(student.email ? { email: student.email } : {}),
      lab,
      ...(cells.spec !== undefined ? { specFile: path.resolve(baseDir, String(cells.spec)) } : {}),
      overrides: { ...(overrides as SpecOverrides), lab, student },
    });
  }
  return problems.length ? { ok: false, problems } : { ok: true, entries, file };
}

/**
 * A cell's value: numbers and booleans where they look like them (ports, weights), text
 * otherwise. Addresses such as 10.0.0.1 stay text.
 */
function scalar(value: string): unknown {
  // A list or map in one cell, written as YAML flow: [10.0.0.100, 10.0.0.101] or {env: PASS_A001}.
  if (/^[[{].*[\]}]$/s.test(value)) {
    try {
      return parseYaml(value, { maxAliasCount: 0 }) as unknown;
    } catch {
      return value;
    }
  }
  if (/^-?\d+$/.test(value) && value.length < 16 && !/^0\d/.test(value)) return Number(value);
  if (/^-?\d+\.\d+$/.test(value) && !/^\d+\.\d+\.\d+/.test(value)) return Number(value);
  if (value === "true" || value === "false") return value === "true";
  return value;
}

/** Sets a dotted path; numeric keys index arrays (`backends.0.address`). */
function setPath(target: Record<string, unknown>, keys: string[], value: unknown): void {
  let node: Record<string, unknown> | unknown[] = target;
  keys.forEach((key, i) => {
    const last = i === keys.length - 1;
    const nextIsIndex = !last && /^\d+$/.test(keys[i + 1]!);
    const slot = Array.isArray(node) ? Number(key) : key;
    const container = node as Record<string | number, unknown>;
    if (last) {
      container[slot] = value;
      return;
    }
    if (container[slot] === undefined) container[slot] = nextIsIndex ? [] : {};
    node = container[slot] as Record<string, unknown> | unknown[];
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `{ env: NAME }` / `{ file: path }` stay objects: they are one secret reference, not two fields. */
function isSecretRef(value: Record<string, unknown>): boolean {
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === "env" || keys[0] === "file");
}

function failure(message: Text, fix: Text): RosterLoad {
  return { ok: false, problems: [{ message, fix }] };
}

export function formatRosterProblems(problems: RosterProblem[], lang: "es" | "en"): string {
  return problems.map((p) => `✘ ${p.message[lang]}\n  → ${p.fix[lang]}`).join("\n");
}

/** Where a spec may hold an SSH password: the defaults, the balancer, each backend. */
function passwordPaths(spec: unknown): string[] {
  const found: string[] = [];
  const has = (node: unknown): boolean =>
    typeof node === "object" && node !== null && (node as { ssh?: { password?: unknown } }).ssh?.password != null;
  if (typeof spec !== "object" || spec === null) return found;
  const record = spec as Record<string, unknown>;
  if (has(record)) found.push("ssh.password");
  if (has(record.balancer)) found.push("balancer.ssh.password");
  if (Array.isArray(record.backends)) record.backends.forEach((backend, i) => has(backend) && found.push(`backends.${i}.ssh.password`));
  return found;
}

/**
 * The warning for a class graded with one password: the template gives an SSH password that some
 * rows do not replace with their own, so every one of those students' machines is sent the same
 * password, and any student can collect it (a fake sshd is enough). Undefined when there is none.
 */
export function sharedPasswordWarning(template: unknown, entries: readonly RosterEntry[]): Text | undefined {
  const fields = passwordPaths(template);
  if (fields.length === 0) return undefined;
  const sharing = entries.filter((entry) => !entry.specFile && passwordPaths(entry.overrides).length < fields.length).length;
  if (sharing < 2) return undefined;
  return {
    es: `Aviso: la plantilla da una contraseña SSH (${fields.join(", ")}) que ${sharing} alumnos comparten: se envía a la máquina de cada uno, y cualquiera de ellos puede recogerla. Las claves SSH son lo seguro para una clase; si no, una columna ssh.password.env o ssh.password.file por alumno.`,
    en: `Warning: the template gives an SSH password (${fields.join(", ")}) that ${sharing} students share: it is sent to each one's machine, and any of them can collect it. SSH keys are the safe choice for a class; otherwise, a per-student ssh.password.env or ssh.password.file column.`,
  };
}
