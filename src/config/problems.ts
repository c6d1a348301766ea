/**
 * Turns schema issues into problems a teacher can act on: the field path, what was found,
 * what is expected and the line to write. Values of secret fields are never quoted back.
 */
import type { z } from "zod";
import { SPEC_REFERENCE, safeForTerminal } from "../model/index.js";
import type { Lang, Text } from "../model/index.js";
import { fieldInfo, formatFieldPath, isSecretPath, normalizeFieldPath, secretFieldPath } from "./fields.js";
import { SPEC_LIMITS, type SpecIssueParams } from "./schema.js";

export interface SpecProblem {
  /** Field path as written in the spec, e.g. `backends[1].address`; "" for the file as a whole. */
  path: string;
  message: Text;
  fix: Text;
  /** 1-based line in the spec file, when the field (or its nearest parent) is in the file. */
  line?: number;
}

/** Optimal string alignment distance (Levenshtein plus adjacent swaps). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      const row = d[i];
      if (row) row[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** keepalived writes `persistence_timeout`, YAML users write `Address`: compare loosely. */
function looseForm(name: string): string {
  return name.toLowerCase().replace(/[-_\s]/g, "");
}

/** The closest candidate when it is close enough to be a typo, else undefined. */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  const loose = looseForm(name);
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(loose, looseForm(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = Math.max(1, Math.floor(loose.length / 3));
  return bestDistance <= allowed ? best : undefined;
}

// ---------------------------------------------------------------------------------------------
// Walking the schema to know which fields exist where

interface SchemaDef {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: readonly z.ZodType[];
  shape?: Record<string, z.ZodType>;
}

function defOf(schema: z.ZodType): SchemaDef {
  return schema._zod.def as unknown as SchemaDef;
}

const WRAPPERS = new Set(["optional", "nullable", "default", "prefault", "nonoptional", "readonly", "catch"]);

function unwrap(schema: z.ZodType): z.ZodType[] {
  const def = defOf(schema);
  if (WRAPPERS.has(def.type) && def.innerType) return unwrap(def.innerType);
  if (def.type === "pipe" && def.in) return unwrap(def.in);
  if (def.type === "union" && def.options) return def.options.flatMap(unwrap);
  return [schema];
}

function schemasAt(root: z.ZodType, path: readonly PropertyKey[]): z.ZodType[] {
  let current = unwrap(root);
  for (const segment of path) {
    const next: z.ZodType[] = [];
    for (const schema of current) {
      const def = defOf(schema);
      if (typeof segment === "number" && def.type === "array" && def.element) next.push(...unwrap(def.element));
      else if (def.type === "object" && def.shape && typeof segment === "string" && Object.hasOwn(def.shape, segment)) {
        const child = def.shape[segment];
        if (child) next.push(...unwrap(child));
      } else if (def.type === "record" && def.valueType) next.push(...unwrap(def.valueType));
    }
    current = next;
  }
  return current;
}

export function fieldsAt(root: z.ZodType, path: readonly PropertyKey[]): string[] {
  return schemasAt(root, path).flatMap((schema) => Object.keys(defOf(schema).shape ?? {}));
}

const placesCache = new WeakMap<z.ZodType, Map<string, string[]>>();

/** For every field name, the sections (normalised paths) where it may be written. */
function fieldPlaces(root: z.ZodType): Map<string, string[]> {
  const cached = placesCache.get(root);
  if (cached) return cached;
  const places = new Map<string, string[]>();
  const visit = (schema: z.ZodType, path: PropertyKey[], depth: number): void => {
    if (depth > 8) return;
    for (const inner of unwrap(schema)) {
      const def = defOf(inner);
      if (def.type === "object" && def.shape) {
        for (const [key, child] of Object.entries(def.shape)) {
          const where = normalizeFieldPath(path);
          const list = places.get(key) ?? [];
          if (!list.includes(where)) list.push(where);
          places.set(key, list);
          visit(child, [...path, key], depth + 1);
        }
      } else if (def.type === "array" && def.element) visit(def.element, [...path, 0], depth + 1);
    }
  };
  visit(root, [], 0);
  placesCache.set(root, places);
  return places;
}

// ---------------------------------------------------------------------------------------------
// Describing values and expectations

function describeValue(value: unknown, lang: Lang): string {
  if (typeof value === "string") {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return lang === "es" ? `el texto "${shown}"` : `the text "${shown}"`;
  }
  if (typeof value === "number") {
    if (Number.isNaN(value)) return lang === "es" ? "NaN (no es un número)" : "NaN (not a number)";
    return Number.isFinite(value) ? String(value) : lang === "es" ? "un número infinito" : "an infinite number";
  }
  if (typeof value === "boolean") return String(value);
  if (value === null) return lang === "es" ? "un valor vacío" : "an empty value";
  if (Array.isArray(value)) return lang === "es" ? "una lista" : "a list";
  if (typeof value === "object") return lang === "es" ? "una sección" : "a section";
  return lang === "es" ? "nada" : "nothing";
}

function both(make: (lang: Lang) => string): Text {
  return { es: make("es"), en: make("en") };
}

const EXPECTED: Record<string, Text> = {
  string: { es: "un texto", en: "a text" },
  number: { es: "un número", en: "a number" },
  int: { es: "un número entero", en: "a whole number" },
  boolean: { es: "true o false", en: "true or false" },
  object: { es: "una sección con campos debajo", en: "a section with fields below it" },
  record: { es: "una sección con campos debajo", en: "a section with fields below it" },
  array: { es: "una lista (líneas que empiezan por -)", en: "a list (lines starting with -)" },
};

function lastKey(path: readonly PropertyKey[]): string {
  for (let i = path.length - 1; i >= 0; i--) {
    const segment = path[i];
    if (typeof segment === "string") return segment;
  }
  return "";
}

function whereText(path: readonly PropertyKey[], lang: Lang): string {
  const parent = path.slice(0, -1);
  if (parent.length === 0) return lang === "es" ? "al nivel superior del fichero" : "at the top level of the file";
  const name = formatFieldPath(parent);
  return lang === "es" ? `dentro de ${name}` : `inside ${name}`;
}

function exampleLine(path: readonly PropertyKey[]): string | undefined {
  const example = fieldInfo(path)?.example;
  const key = lastKey(path);
  if (example === undefined || key === "" || typeof path[path.length - 1] === "number") return example;
  return `${key}: ${example}`;
}

function ruleFix(path: readonly PropertyKey[]): Text {
  const info = fieldInfo(path);
  const example = exampleLine(path);
  if (!info) return { es: `Revisa el valor de este campo en ${SPEC_REFERENCE}.`, en: `Check this field's value in ${SPEC_REFERENCE}.` };
  return both((lang) => {
    const rule = info.rule[lang];
    const eg = example !== undefined ? (lang === "es" ? `, p. ej. ${example}` : `, e.g. ${example}`) : "";
    return lang === "es" ? `Escribe ${rule}${eg}.` : `Write ${rule}${eg}.`;
  });
}

// ---------------------------------------------------------------------------------------------
// Issues → problems

export type LineOf = (path: readonly PropertyKey[]) => number | undefined;

export function specProblem(path: readonly PropertyKey[], message: Text, fix: Text, lineOf?: LineOf): SpecProblem {
  const result: SpecProblem = { path: formatFieldPath(path), message, fix };
  const line = lineOf?.(path);
  if (line !== undefined) result.line = line;
  return result;
}

function hasInput(issue: z.core.$ZodIssue): issue is z.core.$ZodIssue & { input: unknown } {
  return "input" in issue && issue.input !== undefined;
}

function isSpecIssueParams(value: unknown): value is SpecIssueParams {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Partial<SpecIssueParams>;
  return typeof candidate.message?.en === "string" && typeof candidate.fix?.en === "string";
}

function secretProblem(path: readonly PropertyKey[], lineOf: LineOf | undefined): SpecProblem {
  const field = secretFieldPath(path);
  const name = formatFieldPath(field);
  return specProblem(field, {
    es: `${name} no tiene una forma válida (su valor no se muestra por ser secreto).`,
    en: `${name} is not written in a valid form (its value is not shown because it is secret).`,
  }, {
    es: "Escribe { env: NOMBRE_VARIABLE } (recomendado), { file: ruta-del-fichero } o el texto entre comillas.",
    en: "Write { env: VARIABLE_NAME } (recommended), { file: path-of-the-file } or the text in quotes.",
  }, lineOf);
}

function unknownFieldProblem(root: z.ZodType, parent: readonly PropertyKey[], key: string, lineOf: LineOf | undefined): SpecProblem {
  const path = [...parent, key];
  const allowed = fieldsAt(root, parent);
  const suggestion = closestName(key, allowed);
  const where = parent.length === 0 ? { es: "al nivel superior", en: "at the top level" } : { es: `en ${formatFieldPath(parent)}`, en: `in ${formatFieldPath(parent)}` };
  const message = both((lang) => (lang === "es" ? `Campo desconocido "${key}" ${where.es}.` : `Unknown field "${key}" ${where.en}.`));
  let fix: Text;
  if (suggestion !== undefined) {
    fix = both((lang) => (lang === "es" ? `¿Querías decir "${suggestion}"? Renombra ${key}: a ${suggestion}:.` : `Did you mean "${suggestion}"? Rename ${key}: to ${suggestion}:.`));
  } else {
    const places = fieldPlaces(root);
    const elsewhere = places.get(key) ?? places.get(closestName(key, [...places.keys()]) ?? "") ?? [];
    const known = closestName(key, [...places.keys()]) ?? key;
    if (elsewhere.length > 0) {
      const list = elsewhere.map((place) => (place === "" ? "(top level)" : place)).join(", ");
      fix = both((lang) => (lang === "es"
        ? `"${known}" va en ${list.replace("(top level)", "(nivel superior)")}; muévelo allí.`
        : `"${known}" belongs in ${list}; move it there.`));
    } else {
      const names = allowed.join(", ");
      fix = both((lang) => (lang === "es" ? `Bórralo. Campos válidos aquí: ${names}.` : `Remove it. Fields allowed here: ${names}.`));
    }
  }
  return specProblem(path, message, fix, lineOf);
}

function typeProblem(issue: z.core.$ZodIssue & { expected?: string }, path: PropertyKey[], lineOf: LineOf | undefined): SpecProblem {
  const name = formatFieldPath(path);
  const info = fieldInfo(path);
  const expected = EXPECTED[issue.expected ?? ""] ?? { es: `un valor de tipo ${issue.expected ?? "?"}`, en: `a value of type ${issue.expected ?? "?"}` };
  if (!hasInput(issue)) {
    const key = lastKey(path);
    const example = exampleLine(path);
    return specProblem(path, both((lang) => {
      const what = info ? ` (${info.what[lang]})` : "";
      return lang === "es" ? `Falta ${name}${what}, que es obligatorio.` : `${name}${what} is missing; it is required.`;
    }), both((lang) => {
      const line = example ?? `${key}:`;
      return lang === "es" ? `Añade ${line} ${whereText(path, lang)}.` : `Add ${line} ${whereText(path, lang)}.`;
    }), lineOf);
  }
  const input = issue.input;
  const message = both((lang) => (lang === "es"
    ? `${name} debe ser ${expected.es}; se encontró ${describeValue(input, lang)}.`
    : `${name} must be ${expected.en}; found ${describeValue(input, lang)}.`));
  let fix = ruleFix(path);
  const key = lastKey(path);
  if ((issue.expected === "number" || issue.expected === "int") && typeof input === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(input)) {
    fix = both((lang) => (lang === "es" ? `Quita las comillas: ${key}: ${input.trim()}` : `Remove the quotes: ${key}: ${input.trim()}`));
  } else if (issue.expected === "int" && typeof input === "number") {
    fix = both((lang) => (lang === "es" ? `Escribe un número entero, p. ej. ${key}: ${Math.round(input)}` : `Write a whole number, e.g. ${key}: ${Math.round(input)}`));
  } else if (issue.expected === "string" && (typeof input === "number" || typeof input === "boolean")) {
    fix = both((lang) => (lang === "es" ? `Ponlo entre comillas: ${key}: "${String(input)}"` : `Put it in quotes: ${key}: "${String(input)}"`));
  } else if ((issue.expected === "object" || issue.expected === "record") && input === null) {
    fix = both((lang) => (lang === "es"
      ? `${key}: está vacío: escribe sus campos debajo, con sangría, o bórralo si es opcional.`
      : `${key}: is empty: write its fields below it, indented, or remove it if it is optional.`));
  }
  return specProblem(path, message, fix, lineOf);
}

function sizeProblem(issue: z.core.$ZodIssue & { origin?: string; minimum?: number | bigint; maximum?: number | bigint }, path: PropertyKey[], lineOf: LineOf | undefined): SpecProblem {
  const name = formatFieldPath(path);
  const input = hasInput(issue) ? issue.input : undefined;
  const tooSmall = issue.code === "too_small";
  const limit = Number(tooSmall ? issue.minimum : issue.maximum);
  if (issue.origin === "string" && typeof input === "string") {
    if (tooSmall && input.length === 0) {
      return specProblem(path, both((lang) => (lang === "es" ? `${name} está vacío.` : `${name} is empty.`)), ruleFix(path), lineOf);
    }
    return specProblem(path, both((lang) => (lang === "es"
      ? `${name} es demasiado ${tooSmall ? "corto" : "largo"}: ${input.length} caracteres (${tooSmall ? "mínimo" : "máximo"} ${limit}).`
      : `${name} is too ${tooSmall ? "short" : "long"}: ${input.length} characters (${tooSmall ? "at least" : "at most"} ${limit}).`)), ruleFix(path), lineOf);
  }
  if (issue.origin === "array" && Array.isArray(input)) {
    if (normalizeFieldPath(path) === "backends" && tooSmall) {
      return specProblem(path, both((lang) => (lang === "es"
        ? `backends tiene ${input.length} servidor(es) web; la práctica necesita al menos ${limit}.`
        : `backends lists ${input.length} web server(s); the lab needs at least ${limit}.`)), {
        es: "Añade el otro servidor web, p. ej. \"- name: webserver2\" con \"address: 192.168.100.12\".",
        en: "Add the other web server, e.g. \"- name: webserver2\" with \"address: 192.168.100.12\".",
      }, lineOf);
    }
    return specProblem(path, both((lang) => (lang === "es"
      ? `${name} tiene ${input.length} elementos (${tooSmall ? "mínimo" : "máximo"} ${limit}).`
      : `${name} has ${input.length} items (${tooSmall ? "at least" : "at most"} ${limit}).`)), ruleFix(path), lineOf);
  }
  const shown = describeValue(input, "en");
  const message = both((lang) => (lang === "es"
    ? `${name} es ${describeValue(input, "es")}; ${tooSmall ? "el mínimo" : "el máximo"} es ${limit}.`
    : `${name} is ${shown}; the ${tooSmall ? "minimum" : "maximum"} is ${limit}.`));
  let fix = ruleFix(path);
  const isTimeout = normalizeFieldPath(path).startsWith("timeouts.");
  if (isTimeout && tooSmall && typeof input === "number" && input > 0 && input * 1000 <= SPEC_LIMITS.maxTimeoutMs) {
    const key = lastKey(path);
    fix = both((lang) => (lang === "es"
      ? `Los tiempos van en milisegundos: ¿querías decir ${key}: ${input * 1000}?`
      : `Timeouts are in milliseconds: did you mean ${key}: ${input * 1000}?`));
  }
  return specProblem(path, message, fix, lineOf);
}

function valueProblem(issue: z.core.$ZodIssue & { values?: readonly unknown[] }, path: PropertyKey[], lineOf: LineOf | undefined): SpecProblem {
  const name = formatFieldPath(path);
  const values = (issue.values ?? []).map(String);
  const input = hasInput(issue) ? issue.input : undefined;
  const suggestion = typeof input === "string" ? closestName(input, values) : undefined;
  const key = lastKey(path);
  return specProblem(path, both((lang) => (lang === "es"
    ? `${name} es ${describeValue(input, "es")}; debe ser uno de: ${values.join(", ")}.`
    : `${name} is ${describeValue(input, "en")}; it must be one of: ${values.join(", ")}.`)),
  suggestion !== undefined
    ? both((lang) => (lang === "es" ? `¿Querías decir ${key}: ${suggestion}?` : `Did you mean ${key}: ${suggestion}?`))
    : both((lang) => (lang === "es" ? `Escribe uno de: ${values.join(", ")}.` : `Write one of: ${values.join(", ")}.`)), lineOf);
}

function formatProblem(issue: z.core.$ZodIssue, path: PropertyKey[], lineOf: LineOf | undefined): SpecProblem {
  const name = formatFieldPath(path);
  const input = hasInput(issue) ? issue.input : undefined;
  const info = fieldInfo(path);
  return specProblem(path, both((lang) => {
    const what = info ? info.rule[lang] : lang === "es" ? "un valor válido" : "a valid value";
    return lang === "es"
      ? `${name} debe ser ${what}; se encontró ${describeValue(input, lang)}.`
      : `${name} must be ${what}; found ${describeValue(input, lang)}.`;
  }), ruleFix(path), lineOf);
}

function recordKeyProblem(path: PropertyKey[], lineOf: LineOf | undefined): SpecProblem {
  const parent = path.slice(0, -1);
  const key = String(path[path.length - 1] ?? "");
  const isPoints = normalizeFieldPath(parent) === "rubric.points";
  return specProblem(path, both((lang) => (lang === "es"
    ? `La clave "${key}" de ${formatFieldPath(parent)} no es válida.`
    : `Key "${key}" in ${formatFieldPath(parent)} is not valid.`)), isPoints ? {
    es: "Usa el id de una comprobación: palabras en minúscula unidas por . o -, p. ej. net.vip-http.",
    en: "Use a check id: lowercase words joined by . or -, e.g. net.vip-http.",
  } : ruleFix(parent), lineOf);
}

/** One problem per field (the first issue found for it), in the order the schema found them. */
export function issuesToProblems(issues: readonly z.core.$ZodIssue[], root: z.ZodType, lineOf?: LineOf): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const seen = new Set<string>();
  const add = (item: SpecProblem): void => {
    if (seen.has(item.path)) return;
    seen.add(item.path);
    problems.push(item);
  };
  // "adress" unknown + "address" missing is one mistake: the did-you-mean problem says it all.
  const misspelled = new Set<string>();
  for (const issue of issues) {
    if (issue.code !== "unrecognized_keys") continue;
    const allowed = fieldsAt(root, issue.path);
    for (const key of issue.keys) {
      const suggestion = closestName(key, allowed);
      if (suggestion !== undefined) misspelled.add(formatFieldPath([...issue.path, suggestion]));
    }
  }
  for (const issue of issues) {
    const path = [...issue.path];
    if (issue.code === "invalid_type" && !hasInput(issue) && misspelled.has(formatFieldPath(path))) continue;
    if (issue.code === "unrecognized_keys") {
      if (isSecretPath(path)) {
        add(secretProblem(path, lineOf));
        continue;
      }
      for (const key of issue.keys) add(unknownFieldProblem(root, path, key, lineOf));
      continue;
    }
    if (issue.code === "custom" && isSpecIssueParams(issue.params)) {
      add(specProblem(path, issue.params.message, issue.params.fix, lineOf));
      continue;
    }
    if (isSecretPath(path)) {
      add(secretProblem(path, lineOf));
      continue;
    }
    switch (issue.code) {
      case "invalid_type":
        add(typeProblem(issue, path, lineOf));
        break;
      case "too_small":
      case "too_big":
        add(sizeProblem(issue, path, lineOf));
        break;
      case "invalid_value":
        add(valueProblem(issue, path, lineOf));
        break;
      case "invalid_key":
        add(recordKeyProblem(path, lineOf));
        break;
      default:
        add(formatProblem(issue, path, lineOf));
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Rendering

export interface FormatOptions {
  /** File name shown in the heading. */
  sourceName?: string;
  kind?: "problems" | "warnings";
}

/**
 * Plain text for a terminal: one numbered entry per problem, each with its fix. Found values are
 * quoted from the file, which may carry terminal escape sequences: they are shown, never sent raw.
 */
export function formatProblems(problems: readonly SpecProblem[], lang: Lang, options: FormatOptions = {}): string {
  const warnings = options.kind === "warnings";
  const count = problems.length;
  const noun = lang === "es"
    ? (warnings ? (count === 1 ? "aviso" : "avisos") : (count === 1 ? "problema" : "problemas"))
    : (warnings ? (count === 1 ? "warning" : "warnings") : (count === 1 ? "problem" : "problems"));
  const about = lang === "es" ? "en la especificación de la práctica" : "in the lab spec";
  const source = options.sourceName !== undefined ? `${options.sourceName}: ` : "";
  const lines = [`${source}${count} ${noun} ${about}:`];
  const fixLabel = lang === "es" ? "Solución" : "Fix";
  problems.forEach((item, index) => {
    // File-level messages already say their line.
    const line = item.line !== undefined && item.path !== "" ? (lang === "es" ? `(línea ${item.line})` : `(line ${item.line})`) : "";
    const where = [item.path, line].filter(Boolean).join(" ");
    lines.push(`  ${index + 1}. ${where !== "" ? `${where}: ` : ""}${item.message[lang]}`);
    lines.push(`     ${fixLabel}: ${item.fix[lang]}`);
  });
  return safeForTerminal(lines.join("\n"));
}
