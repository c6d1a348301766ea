import type { Lang, Outcome, Part } from "../runner/types.js";

/**
 * The words of the file scorecards (JUnit and HTML). The English table is the model; the
 * Spanish one must have the same keys, so a page never falls back to English.
 */
const en = {
  title: "hagrade scorecard",
  lab: "Lab",
  student: "Student",
  part: "Part",
  partName: { lvs: "1: keepalived + LVS", proxy: "2: Apache reverse proxy", net: "network" } as Record<Part | "net", string>,
  partSource: { spec: "from the spec", cli: "from the command line", detected: "detected from the traffic" } as Record<"spec" | "cli" | "detected", string>,
  score: "Score",
  points: "points",
  date: "Date",
  duration: "Duration",
  httpRequests: "HTTP requests sent",
  sshCommands: "SSH commands sent",
  version: "hagrade version",
  notes: "Notes about the run",
  checks: "Checks",
  outcome: {
    pass: "Passed",
    fail: "Failed",
    inconclusive: "Inconclusive",
    error: "Grader error",
    skipped: "Skipped",
  } as Record<Outcome, string>,
  outcomePlural: {
    pass: "passed",
    fail: "failed",
    inconclusive: "inconclusive",
    error: "grader errors",
    skipped: "skipped",
  } as Record<Outcome, string>,
  fix: "How to fix it",
  evidence: "Evidence",
  sample: "Sample",
  requests: "requests",
  connections: "connections",
  observed: "observed",
  expected: "expected",
  interval: "confidence interval",
  sequence: "Sequence of answers, in order",
  sequenceLegend: "one block per request; red: error",
  counts: "Answers per server",
  backend: "Server",
  share: "Share",
  client: "Client",
  status: "Status",
  cookie: "Cookie",
  setCookie: "Set-Cookie",
  route: "Route",
  failedRequests: "failed requests",
  detectedIn: "detected in",
  rejoinedIn: "back in service after",
  notRejoined: "did not come back into service",
  timeline: "Timeline of the requests during the failover",
  timeAxis: "time (s)",
  command: "Command",
  host: "Host",
  exitCode: "exit code",
  output: "Output",
  errorOutput: "Error output",
  noOutput: "(no output)",
  restore: "Restore",
  restored: "restored and verified",
  notRestored: "NOT restored",
  leftToDo: "Left to do by hand",
  dependsOn: "depends on",
  details: "Details",
  url: "URL",
  error: "Error",
  headers: "Headers",
  pageExcerpt: "Page excerpt",
  latency: "latency",
  yes: "yes",
  no: "no",
  seconds: "s",
  ms: "ms",
  none: "none",
  more: "more",
} as const;

export type Words = {
  readonly [K in keyof typeof en]: (typeof en)[K] extends string ? string : (typeof en)[K];
};

const es: Words = {
  title: "Hoja de evaluación de hagrade",
  lab: "Práctica",
  student: "Estudiante",
  part: "Parte",
  partName: { lvs: "1: keepalived + LVS", proxy: "2: proxy inverso Apache", net: "red" },
  partSource: { spec: "según la especificación", cli: "según la línea de órdenes", detected: "deducida del tráfico" },
  score: "Puntuación",
  points: "puntos",
  date: "Fecha",
  duration: "Duración",
  httpRequests: "Peticiones HTTP enviadas",
  sshCommands: "Órdenes SSH enviadas",
  version: "versión de hagrade",
  notes: "Notas sobre la ejecución",
  checks: "Comprobaciones",
  outcome: {
    pass: "Superada",
    fail: "Fallida",
    inconclusive: "No concluyente",
    error: "Fallo del evaluador",
    skipped: "Omitida",
  },
  outcomePlural: {
    pass: "superadas",
    fail: "fallidas",
    inconclusive: "no concluyentes",
    error: "fallos del evaluador",
    skipped: "omitidas",
  },
  fix: "Cómo arreglarlo",
  evidence: "Pruebas",
  sample: "Muestra",
  requests: "peticiones",
  connections: "conexiones",
  observed: "observado",
  expected: "esperado",
  interval: "intervalo de confianza",
  sequence: "Secuencia de respuestas, en orden",
  sequenceLegend: "un bloque por petición; rojo: fallo",
  counts: "Respuestas por servidor",
  backend: "Servidor",
  share: "Proporción",
  client: "Cliente",
  status: "Estado",
  cookie: "Galleta (cookie)",
  setCookie: "Cabecera Set-Cookie",
  route: "Ruta",
  failedRequests: "peticiones fallidas",
  detectedIn: "detección en",
  rejoinedIn: "de vuelta en servicio a los",
  notRejoined: "no volvió a entrar en servicio",
  timeline: "Cronología de las peticiones durante la conmutación",
  timeAxis: "tiempo (s)",
  command: "Orden",
  host: "Máquina",
  exitCode: "código de salida",
  output: "Salida",
  errorOutput: "Salida de errores",
  noOutput: "(sin salida)",
  restore: "Restauración",
  restored: "restaurado y verificado",
  notRestored: "NO restaurado",
  leftToDo: "Queda por hacer a mano",
  dependsOn: "depende de",
  details: "Detalles",
  url: "Dirección",
  error: "Fallo",
  headers: "Cabeceras",
  pageExcerpt: "Extracto de la página",
  latency: "latencia",
  yes: "sí",
  no: "no",
  seconds: "s",
  ms: "ms",
  none: "ninguno",
  more: "más",
};

export const WORDS: Record<Lang, Words> = { en, es };

/** Every string of a language's table, nested ones included (tests compare the two pages with it). */
export function allWords(lang: Lang): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === "string") out.push(v);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(WORDS[lang]);
  return out;
}

/** "2.5 s" / "2,5 s": numbers written the way each language writes them. */
export function formatNumber(lang: Lang, value: number, digits = 0): string {
  return new Intl.NumberFormat(lang === "es" ? "es-ES" : "en-GB", { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
}

export function formatDuration(lang: Lang, ms: number): string {
  return ms < 1000 ? `${formatNumber(lang, ms)} ms` : `${formatNumber(lang, ms / 1000, 1)} s`;
}
