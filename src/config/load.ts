/**
 * Reads a lab spec (YAML or JSON) into a validated `LabSpec`, or into the complete list of
 * problems with it. Nothing here throws at a user: every failure is a `SpecProblem` naming the
 * field, what was found and the fix. Spec files come from students and teachers' templates, so
 * the reader is defensive: size cap, alias-bomb guard, strict UTF-8, duplicate keys refused.
 */
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document } from "yaml";
import type { Text } from "../model/index.js";
import { formatFieldPath } from "./fields.js";
import { checkLocalFiles, inlineSecrets } from "./local-files.js";
import { readCapped } from "./read-capped.js";
import { hostPathContext, resolveSpecPaths, type PathContext } from "./paths.js";
import { closestName, issuesToProblems, specProblem, type LineOf, type SpecProblem } from "./problems.js";
import { labSpecSchema, type LabSpec, type LabSpecInput } from "./schema.js";

export { formatProblems, type FormatOptions, type SpecProblem } from "./problems.js";

/** Real specs are a few KiB; a cap keeps a wrong path (a log, an ISO) from being slurped. */
export const MAX_SPEC_BYTES = 1024 * 1024;
/** Anchors are handy in templates; more aliases than this is an expansion attack. */
export const MAX_ALIAS_COUNT = 100;

type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
/** Values laid over the file before validation (command-line flags, batch templates). */
export type SpecOverrides = DeepPartial<LabSpecInput>;

export type SpecLoadResult =
  | { ok: true; spec: LabSpec; warnings: SpecProblem[] }
  | { ok: false; problems: SpecProblem[]; warnings: SpecProblem[] };

export interface ParseSpecOptions {
  /** Folder relative paths in the spec are resolved against. */
  baseDir: string;
  /** Shown in messages (a file name, or e.g. "template for alumno-07"). */
  sourceName: string;
  overrides?: SpecOverrides;
  /** Known check ids: when given, unknown `rubric.points` keys are problems with a suggestion. */
  checkIds?: readonly string[];
  /** For tests: the home folder `~` expands to. */
  homeDir?: string;
  /** Environment used to tell whether `{ env: NAME }` secrets are set. */
  env?: NodeJS.ProcessEnv;
}

export type LoadSpecOptions = Omit<ParseSpecOptions, "baseDir" | "sourceName" | "overrides">;

function fileProblem(message: Text, fix: Text, line?: number): SpecProblem {
  const problem: SpecProblem = { path: "", message, fix };
  if (line !== undefined) problem.line = line;
  return problem;
}

function failed(problems: SpecProblem[], warnings: SpecProblem[] = []): SpecLoadResult {
  return { ok: false, problems, warnings };
}

export async function loadSpec(file: string, overrides?: SpecOverrides, options: LoadSpecOptions = {}): Promise<SpecLoadResult> {
  const absolute = path.resolve(file);
  let size: number;
  let regular: boolean;
  try {
    const stats = await stat(absolute);
    if (stats.isDirectory()) {
      return failed([fileProblem(
        { es: `${absolute} es una carpeta, no un fichero de spec.`, en: `${absolute} is a folder, not a spec file.` },
        { es: "Indica el fichero, p. ej. lab.yaml dentro de esa carpeta.", en: "Give the file, e.g. lab.yaml inside that folder." },
      )]);
    }
    size = stats.size;
    regular = stats.isFile();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return failed([fileProblem(
      code === "ENOENT" || code === "ENOTDIR"
        ? { es: `No existe el fichero de spec ${absolute}.`, en: `Spec file ${absolute} does not exist.` }
        : { es: `No se puede leer ${absolute} (${code ?? "error"}).`, en: `Cannot read ${absolute} (${code ?? "error"}).` },
      { es: "Corrige la ruta, o crea un spec con: hagrade init --lang es > lab.yaml", en: "Correct the path, or create a spec with: hagrade init --lang en > lab.yaml" },
    )]);
  }
  if (size > MAX_SPEC_BYTES) return failed([tooLarge(size)]);
  let bytes: Uint8Array;
  try {
    // A device or a pipe (/dev/zero, a shell's <(...)) has no size to check first: read it with the cap.
    bytes = regular ? await readFile(absolute) : await readCapped(absolute, MAX_SPEC_BYTES + 1);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return failed([fileProblem(
      { es: `No se puede leer ${absolute} (${code ?? "error"}).`, en: `Cannot read ${absolute} (${code ?? "error"}).` },
      { es: "Da permiso de lectura al usuario que ejecuta hagrade.", en: "Give read permission to the user running hagrade." },
    )]);
  }
  if (bytes.length > MAX_SPEC_BYTES) return failed([tooLarge(bytes.length, true)]);
  const parseOptions: ParseSpecOptions = { ...options, baseDir: path.dirname(absolute), sourceName: path.basename(absolute) };
  if (overrides !== undefined) parseOptions.overrides = overrides;
  return parseSpecText(bytes, parseOptions);
}

function tooLarge(size: number, endless = false): SpecProblem {
  return fileProblem(
    endless
      ? { es: `El spec no termina tras ${MAX_SPEC_BYTES} bytes (¿un dispositivo?); el máximo es ${MAX_SPEC_BYTES}.`, en: `The spec goes on past ${MAX_SPEC_BYTES} bytes (a device?); the most allowed is ${MAX_SPEC_BYTES}.` }
      : { es: `El spec ocupa ${size} bytes; el máximo es ${MAX_SPEC_BYTES}.`, en: `The spec is ${size} bytes; the most allowed is ${MAX_SPEC_BYTES}.` },
    { es: "Comprueba que es el fichero correcto: un spec ocupa unos pocos KiB.", en: "Check it is the right file: a spec is a few KiB." },
  );
}

/** Offset of the first byte that breaks UTF-8, or -1. */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const byte = bytes[i] ?? 0;
    let extra: number;
    let min: number;
    if (byte < 0x80) { i++; continue; }
    if (byte >= 0xc2 && byte <= 0xdf) { extra = 1; min = 0x80; }
    else if (byte >= 0xe0 && byte <= 0xef) { extra = 2; min = 0x800; }
    else if (byte >= 0xf0 && byte <= 0xf4) { extra = 3; min = 0x10000; }
    else return i;
    let codePoint = byte & (0x3f >> extra);
    for (let k = 1; k <= extra; k++) {
      const next = bytes[i + k];
      if (next === undefined || (next & 0xc0) !== 0x80) return i;
      codePoint = (codePoint << 6) | (next & 0x3f);
    }
    if (codePoint < min || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return i;
    i += extra + 1;
  }
  return -1;
}

function decodeSpecBytes(bytes: Uint8Array): { ok: true; text: string } | { ok: false; problem: SpecProblem } {
  if (bytes.length > MAX_SPEC_BYTES) return { ok: false, problem: tooLarge(bytes.length) };
  const utf16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
  if (utf16) {
    return { ok: false, problem: fileProblem(
      { es: "El fichero está guardado en UTF-16; debe ser UTF-8.", en: "The file is saved as UTF-16; it must be UTF-8." },
      { es: "Guárdalo como UTF-8 (en el Bloc de notas: Guardar como → Codificación UTF-8).", en: "Save it as UTF-8 (in Notepad: Save as → Encoding UTF-8)." },
    ) };
  }
  const bad = firstInvalidUtf8Offset(bytes);
  if (bad !== -1) {
    const line = bytes.subarray(0, bad).reduce((count, byte) => count + (byte === 0x0a ? 1 : 0), 1);
    const hex = (bytes[bad] ?? 0).toString(16).toUpperCase().padStart(2, "0");
    return { ok: false, problem: fileProblem(
      {
        es: `El fichero no es texto UTF-8: el byte 0x${hex} de la línea ${line} no es UTF-8 válido (¿guardado como Latin-1/Windows-1252?).`,
        en: `The file is not UTF-8 text: byte 0x${hex} on line ${line} is not valid UTF-8 (saved as Latin-1/Windows-1252?).`,
      },
      {
        es: "Guárdalo como UTF-8 (p. ej. iconv -f latin1 -t utf-8 lab.yaml > lab-utf8.yaml).",
        en: "Save it as UTF-8 (e.g. iconv -f latin1 -t utf-8 lab.yaml > lab-utf8.yaml).",
      },
      line,
    ) };
  }
  return { ok: true, text: new TextDecoder("utf-8").decode(bytes) };
}

// ---------------------------------------------------------------------------------------------
// From YAML nodes back to lines

function lineAt(counter: LineCounter, node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? counter.linePos(range[0]).line : undefined;
}

function lineLocator(doc: Document, counter: LineCounter): LineOf {
  return (fieldPath) => {
    let node: unknown = doc.contents;
    let line = lineAt(counter, node);
    for (const segment of fieldPath) {
      if (isAlias(node)) node = node.resolve(doc);
      if (isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
        if (!pair) break;
        line = lineAt(counter, pair.key) ?? line;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === "number") {
        const item = node.items[segment];
        if (item === undefined) break;
        line = lineAt(counter, item) ?? line;
        node = item;
      } else break;
    }
    return line;
  };
}

/** The field path of the map key starting at `offset` (for duplicate-key errors). */
function keyPathAt(doc: Document, offset: number): PropertyKey[] | undefined {
  const visit = (node: unknown, trail: PropertyKey[]): PropertyKey[] | undefined => {
    if (isMap(node)) {
      for (const item of node.items) {
        const key = isScalar(item.key) ? String(item.key.value) : "?";
        const range = (item.key as { range?: [number, number, number] } | null)?.range;
        if (range && range[0] === offset) return [...trail, key];
        const found = visit(item.value, [...trail, key]);
        if (found) return found;
      }
    } else if (isSeq(node)) {
      for (let index = 0; index < node.items.length; index++) {
        const found = visit(node.items[index], [...trail, index]);
        if (found) return found;
      }
    } else if (isPair(node)) return visit(node.value, trail);
    return undefined;
  };
  return visit(doc.contents, []);
}

function yamlErrorProblem(error: { code: string; message: string; pos: [number, number] }, doc: Document, counter: LineCounter, format: string, lineOf: LineOf): SpecProblem {
  const { line, col } = counter.linePos(error.pos[0]);
  const at = { es: `columna ${col}`, en: `column ${col}` };
  switch (error.code) {
    case "DUPLICATE_KEY": {
      const keyPath = keyPathAt(doc, error.pos[0]);
      const name = keyPath ? formatFieldPath(keyPath) : "?";
      const firstLine = keyPath ? lineOf(keyPath) : undefined;
      const earlier = firstLine !== undefined && firstLine !== line;
      const problem = specProblem(keyPath ?? [], {
        es: `${name} aparece dos veces${earlier ? ` (la primera en la línea ${firstLine})` : ""}.`,
        en: `${name} is written twice${earlier ? ` (first on line ${firstLine})` : ""}.`,
      }, { es: "Deja solo una de las dos líneas.", en: "Keep only one of the two lines." });
      problem.line = line;
      return problem;
    }
    case "TAB_AS_INDENT":
      return fileProblem({ es: `Sangría con tabulador en la línea ${line}.`, en: `Tab used for indentation on line ${line}.` },
        { es: "YAML solo admite espacios para sangrar: cambia los tabuladores por espacios.", en: "YAML indents with spaces only: replace the tabs with spaces." }, line);
    case "BAD_DQ_ESCAPE":
      return fileProblem({ es: `Secuencia de escape \\ no válida entre comillas dobles en la línea ${line}, ${at.es}.`, en: `Invalid \\ escape inside double quotes on line ${line}, ${at.en}.` },
        { es: "Para rutas de Windows usa comillas simples ('C:\\Users\\ana\\.ssh\\id') o barras /; en expresiones, dobla la barra (\\\\d).", en: "For Windows paths use single quotes ('C:\\Users\\ana\\.ssh\\id') or forward slashes; in patterns double the backslash (\\\\d)." }, line);
    case "MULTIPLE_DOCS":
      return fileProblem({ es: "El fichero tiene más de un documento YAML (separados por ---).", en: "The file holds more than one YAML document (separated by ---)." },
        { es: "Deja un solo spec por fichero.", en: "Keep one spec per file." }, line);
    default: {
      if (/call stack/i.test(error.message)) {
        return fileProblem({ es: `El ${format} está anidado demasiado hondo (línea ${line}).`, en: `The ${format} is nested too deeply (line ${line}).` },
          { es: "Un spec tiene pocos niveles: revisa corchetes o llaves sin cerrar.", en: "A spec has few levels: look for unclosed brackets or braces." }, line);
      }
      // yaml quotes source text in a few messages (escapes, block headers): keep only the description.
      const description = error.message.split(/:\s/)[0]?.slice(0, 160) ?? error.code;
      return fileProblem(
        { es: `Error de sintaxis ${format} en la línea ${line}, ${at.es}: ${description}.`, en: `${format} syntax error on line ${line}, ${at.en}: ${description}.` },
        { es: `Revisa esa línea y las anteriores: sangría, dos puntos, comillas o corchetes sin cerrar.`, en: "Check that line and the ones before it: indentation, colons, unclosed quotes or brackets." },
        line,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Objects merge key by key; lists and scalars replace. */
function applyOverrides(base: unknown, overrides: unknown): unknown {
  // A roster column `backends.1.address` overrides one field of one item, not the whole list.
  if (Array.isArray(base) && Array.isArray(overrides)) {
    const length = Math.max(base.length, overrides.length);
    return Array.from({ length }, (_, i) => (i in overrides && overrides[i] !== undefined ? applyOverrides(base[i], overrides[i]) : base[i]));
  }
  if (!isPlainObject(base) || !isPlainObject(overrides)) return overrides === undefined ? base : overrides;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    merged[key] = applyOverrides(base[key], value);
  }
  return merged;
}

function scrub(problems: SpecProblem[], secrets: readonly string[]): SpecProblem[] {
  const values = secrets.filter((value) => value.length >= 4).sort((a, b) => b.length - a.length);
  if (values.length === 0) return problems;
  const clean = (text: string): string => values.reduce((out, value) => out.split(value).join("***"), text);
  return problems.map((problem) => ({
    ...problem,
    path: clean(problem.path),
    message: { es: clean(problem.message.es), en: clean(problem.message.en) },
    fix: { es: clean(problem.fix.es), en: clean(problem.fix.en) },
  }));
}

/** File order reads best; problems without a line (the file as a whole, overrides) go first. */
function byLine(problems: SpecProblem[]): SpecProblem[] {
  return problems.map((problem, index) => ({ problem, index }))
    .sort((a, b) => (a.problem.line ?? 0) - (b.problem.line ?? 0) || a.index - b.index)
    .map(({ problem }) => problem);
}

function mergeByPath(first: SpecProblem[], second: SpecProblem[]): SpecProblem[] {
  const seen = new Set(first.map((problem) => problem.path));
  return [...first, ...second.filter((problem) => !seen.has(problem.path))];
}

function checkRubricIds(raw: unknown, checkIds: readonly string[], lineOf: LineOf): SpecProblem[] {
  if (!isPlainObject(raw) || !isPlainObject(raw.rubric) || !isPlainObject(raw.rubric.points)) return [];
  return Object.keys(raw.rubric.points).filter((id) => !checkIds.includes(id)).map((id) => {
    const suggestion = closestName(id, checkIds);
    return specProblem(["rubric", "points", id], {
      es: `No hay ninguna comprobación con id "${id}".`,
      en: `There is no check with id "${id}".`,
    }, suggestion !== undefined
      ? { es: `¿Querías decir "${suggestion}"?`, en: `Did you mean "${suggestion}"?` }
      : { es: `Usa uno de: ${checkIds.join(", ")}.`, en: `Use one of: ${checkIds.join(", ")}.` }, lineOf);
  });
}

/**
 * Parses a spec held in memory (batch grading templates specs). `text` may be the raw bytes of
 * a file, which are then checked to be UTF-8.
 */
export async function parseSpecText(text: string | Uint8Array, options: ParseSpecOptions): Promise<SpecLoadResult> {
  try {
    return await parseSpecUnguarded(text, options);
  } catch (error) {
    // A spec must never crash the grader: whatever slipped through becomes a problem too.
    const name = error instanceof Error ? error.name : "Error";
    return failed([fileProblem(
      { es: `No se pudo leer ${options.sourceName} (${name}).`, en: `Could not read ${options.sourceName} (${name}).` },
      { es: "Comprueba que es un spec YAML o JSON; si lo es, informa del fallo con el fichero.", en: "Check it is a YAML or JSON spec; if it is, report the failure with the file." },
    )]);
  }
}

async function parseSpecUnguarded(text: string | Uint8Array, options: ParseSpecOptions): Promise<SpecLoadResult> {
  let source: string;
  if (typeof text === "string") {
    if (text.length > MAX_SPEC_BYTES) return failed([tooLarge(text.length)]);
    source = text.startsWith("\uFEFF") ? text.slice(1) : text;
  } else {
    const decoded = decodeSpecBytes(text);
    if (!decoded.ok) return failed([decoded.problem]);
    source = decoded.text.startsWith("\uFEFF") ? decoded.text.slice(1) : decoded.text;
  }
  if (source.includes("\0")) {
    return failed([fileProblem(
      { es: "El fichero contiene bytes nulos: no es un fichero de texto.", en: "The file contains NUL bytes: it is not a text file." },
      { es: "Indica el fichero YAML o JSON del spec.", en: "Give the spec's YAML or JSON file." },
    )]);
  }
  const format = /^\s*[{[]/.test(source) ? "JSON" : "YAML";
  const counter = new LineCounter();
  const doc = parseDocument(source, { lineCounter: counter, prettyErrors: false, uniqueKeys: true, merge: true, strict: true, version: "1.2" });
  const lineOf = lineLocator(doc, counter);
  if (doc.errors.length > 0) {
    // After the first syntax error the parser's later complaints are mostly echoes of it;
    // repeated keys are independent mistakes and are all worth reporting.
    const duplicates = doc.errors.filter((error) => error.code === "DUPLICATE_KEY");
    const first = doc.errors.filter((error) => error.code !== "DUPLICATE_KEY").sort((a, b) => a.pos[0] - b.pos[0])[0];
    const reported = first ? [...duplicates, first] : duplicates;
    return failed(byLine(reported.map((error) => yamlErrorProblem(error, doc, counter, format, lineOf))));
  }
  const warnings: SpecProblem[] = doc.warnings.map((warning) => {
    const { line } = counter.linePos(warning.pos[0]);
    return fileProblem(
      { es: `Aviso de ${format} en la línea ${line}: ${warning.message.slice(0, 160)}.`, en: `${format} warning on line ${line}: ${warning.message.slice(0, 160)}.` },
      { es: "Quita las etiquetas YAML (!!...) que no sean estándar.", en: "Remove non-standard YAML tags (!!...)." },
      line,
    );
  });

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch {
    return failed([fileProblem(
      { es: `El fichero usa demasiados alias YAML (*ancla): más de ${MAX_ALIAS_COUNT} expansiones.`, en: `The file uses too many YAML aliases (*anchor): more than ${MAX_ALIAS_COUNT} expansions.` },
      { es: "Escribe los valores directamente en lugar de anidar alias.", en: "Write the values out instead of nesting aliases." },
    )]);
  }
  if (raw === null || raw === undefined) {
    return failed([fileProblem(
      { es: `${options.sourceName} está vacío.`, en: `${options.sourceName} is empty.` },
      { es: "Escribe el spec, o crea uno de ejemplo con: hagrade init --lang es", en: "Write the spec, or create a starter one with: hagrade init --lang en" },
    )]);
  }
  if (!isPlainObject(raw)) {
    return failed([fileProblem(
      { es: `El ${format} debe ser un mapa de campos (lab:, vip:, balancer:, backends:), no ${Array.isArray(raw) ? "una lista" : "un valor suelto"}.`, en: `The ${format} must be a map of fields (lab:, vip:, balancer:, backends:), not ${Array.isArray(raw) ? "a list" : "a single value"}.` },
      { es: "Empieza con lab: nombre, y debajo vip:, balancer: y backends:; ver hagrade init.", en: "Start with lab: name, then vip:, balancer: and backends:; see hagrade init." },
    )]);
  }

  const merged = applyOverrides(raw, options.overrides);
  const secrets = inlineSecrets(merged);
  const context: PathContext = { ...hostPathContext(options.baseDir), ...(options.homeDir !== undefined ? { homeDir: options.homeDir } : {}) };
  const env = options.env ?? process.env;

  const parsed = labSpecSchema.safeParse(merged, { reportInput: true });
  const schemaProblems = parsed.success ? [] : issuesToProblems(parsed.error.issues, labSpecSchema, lineOf);
  const files = await checkLocalFiles(merged, context, env, lineOf);
  const rubricProblems = options.checkIds ? checkRubricIds(merged, options.checkIds, lineOf) : [];
  const problems = mergeByPath(mergeByPath(schemaProblems, files.problems), rubricProblems);
  const allWarnings = scrub([...warnings, ...files.warnings], secrets);

  if (!parsed.success || problems.length > 0) return failed(scrub(byLine(problems), secrets), allWarnings);
  return { ok: true, spec: resolveSpecPaths(parsed.data, context), warnings: allWarnings };
}
