import type { EvidenceKind, Lang, Outcome, Part, Text } from "../model/index.js";
import { EVIDENCE_TITLES } from "./evidence-words.js";

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
  connection: "connection",
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
  cookieTrace: "Cookies request by request",
  requestNumber: "Request",
  cookieSent: "Cookie sent",
  backendReached: "Server that answered",
  setCookieReceived: "Set-Cookie received",
  vrrpTimeline: "Timeline of the requests while the VIP moves between directors",
  servedAgainAfter: "the VIP served again after",
  notServedAgain: "the VIP did not serve again",
  masterKeptVip: "the MASTER kept the VIP",
  failedRequests: "failed requests",
  detectedIn: "detected in",
  rejoinedIn: "back in service after",
  notRejoined: "did not come back into service",
  rejoinNotMeasured: "its return to the balancer (Apache's retry=) not waited for: --long measures it",
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
  connection: "conexión",
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
  cookie: "Cookie",
  setCookie: "Set-Cookie",
  route: "Ruta",
  cookieTrace: "Cookies petición a petición",
  requestNumber: "Petición",
  cookieSent: "Cookie enviada",
  backendReached: "Servidor que respondió",
  setCookieReceived: "Set-Cookie recibida",
  vrrpTimeline: "Cronología de las peticiones mientras la VIP cambia de director",
  servedAgainAfter: "la VIP volvió a servir a los",
  notServedAgain: "la VIP no volvió a servir",
  masterKeptVip: "el MASTER se quedó con la VIP",
  failedRequests: "peticiones fallidas",
  detectedIn: "detección en",
  rejoinedIn: "de vuelta en servicio a los",
  notRejoined: "no volvió a entrar en servicio",
  rejoinNotMeasured: "no se esperó su vuelta al balanceador (retry= de Apache): --long la mide",
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

/**
 * Labels the engine writes into evidence in English, keyed by the label itself (it is stable:
 * results saved long ago are re-rendered with it): failover events, sample names and modes,
 * the clients of a failover timeline, the progress labels of a sample. A check emits the key and
 * the reports name it in their language, so no check has to change to be translated.
 */
const LABELS: Record<string, Text> = {
  // Failover events (src/runner/failover.ts, checks/lvs/vrrp-failover.ts).
  stop: { es: "parada", en: "stop" },
  stopped: { es: "parado", en: "stopped" },
  restoring: { es: "restaurando", en: "restoring" },
  "started (verified)": { es: "arrancado (verificado)", en: "started (verified)" },
  "start attempted": { es: "arranque intentado", en: "start attempted" },
  rejoined: { es: "de vuelta en servicio", en: "rejoined" },
  "asked to stop": { es: "se pidió parar", en: "asked to stop" },
  "stop confirmed": { es: "parada confirmada", en: "stop confirmed" },
  "stop not confirmed": { es: "parada sin confirmar", en: "stop not confirmed" },
  "asked to start": { es: "se pidió arrancar", en: "asked to start" },
  "start confirmed": { es: "arranque confirmado", en: "start confirmed" },
  "start not confirmed": { es: "arranque sin confirmar", en: "start not confirmed" },
  "stop keepalived on the MASTER": { es: "parar keepalived en el MASTER", en: "stop keepalived on the MASTER" },
  "MASTER released the VIP": { es: "el MASTER liberó la VIP", en: "MASTER released the VIP" },
  // Sample modes and names, clients of a timeline, progress labels.
  "keep-alive": { es: "conexión persistente", en: "keep-alive" },
  "new-connection": { es: "conexión nueva por petición", en: "new-connection" },
  "one connection per client address": { es: "una conexión por dirección de cliente", en: "one connection per client address" },
  "one client": { es: "un cliente", en: "one client" },
  "other clients": { es: "otros clientes", en: "other clients" },
  cookieless: { es: "sin cookie", en: "cookieless" },
  "with-cookie": { es: "con cookie", en: "with-cookie" },
  sticky: { es: "con cookie", en: "sticky" },
  "forged cookie": { es: "cookie falsificada", en: "forged cookie" },
  detect: { es: "detección de la parte", en: "detect" },
  grader: { es: "evaluador", en: "grader" },
  "one new connection to the VIP": { es: "una conexión nueva a la VIP", en: "one new connection to the VIP" },
  // Answers that name no web server.
  unidentified: { es: "sin identificar", en: "unidentified" },
  "no answer": { es: "sin respuesta", en: "no answer" },
  unread: { es: "sin leer", en: "unread" },
};

/** Labels built at run time ("from 10.0.0.3", "forged .wsrv2"): the stable prefix is translated. */
const LABEL_PREFIXES: [string, Text][] = [
  ["from ", { es: "desde ", en: "from " }],
  ["forged ", { es: "cookie falsificada ", en: "forged " }],
  ["client ", { es: "cliente ", en: "client " }],
  ["unknown:", { es: "desconocida:", en: "unknown:" }],
];

/** A label of the evidence in `lang`; one the table does not know is shown as it is. */
export function labelText(label: string, lang: Lang): string {
  const known = LABELS[label];
  if (known) return known[lang];
  for (const [prefix, words] of LABEL_PREFIXES) {
    if (label.startsWith(prefix)) return words[lang] + label.slice(prefix.length);
  }
  return label;
}

/** Every label of the table, with the prefixes of built ones (tests check each has a Spanish form). */
export function knownLabels(): { labels: string[]; prefixes: string[] } {
  return { labels: Object.keys(LABELS), prefixes: LABEL_PREFIXES.map(([p]) => p) };
}

/**
 * What a failover event is: the victim going down (drawn red), coming back (green), or
 * something seen in between (neutral). Known events by name; a new one by its words.
 */
export type EventKind = "stop" | "start" | "info";
const EVENT_KINDS: Record<string, EventKind> = {
  stop: "stop",
  stopped: "stop",
  "asked to stop": "stop",
  "stop confirmed": "stop",
  "stop not confirmed": "stop",
  "stop keepalived on the MASTER": "stop",
  restoring: "start",
  "started (verified)": "start",
  "start attempted": "start",
  "asked to start": "start",
  "start confirmed": "start",
  "start not confirmed": "start",
  rejoined: "start",
  "MASTER released the VIP": "info",
};

export function eventKind(what: string): EventKind {
  const known = EVENT_KINDS[what];
  if (known) return known;
  if (/\b(start|started|restor\w*|rejoin\w*|back)\b/i.test(what)) return "start";
  if (/\b(stop|stopped|down|kill\w*)\b/i.test(what)) return "stop";
  return "info";
}

/** Kinds that old results wrote and no kind of today has (their fields are a table). */
const OLD_KIND_TITLES: Record<string, Text> = {
  credentials: { es: "Credenciales", en: "Credentials" },
  error: { es: "Fallo", en: "Error" },
  "no-ssh": { es: "Sin SSH", en: "No SSH" },
  unexpected: { es: "Resultado inesperado", en: "Unexpected result" },
  unreadable: { es: "Salida ilegible", en: "Unreadable output" },
};

/** The title of a kind of evidence, of today or of an old result. */
export function kindTitle(kind: string, lang: Lang): string | undefined {
  return (Object.hasOwn(EVIDENCE_TITLES, kind) ? EVIDENCE_TITLES[kind as EvidenceKind] : OLD_KIND_TITLES[kind])?.[lang];
}

/** Field names of evidence drawn as a table, keyed by the field (the JSON keeps the key). */
const FIELD_NAMES: Record<string, Text> = {
  args: { es: "argumentos", en: "arguments" },
  back: { es: "de vuelta", en: "back" },
  backAfterSeconds: { es: "de vuelta tras (s)", en: "back after (s)" },
  backend: { es: "servidor", en: "server" },
  backendsSeen: { es: "servidores vistos", en: "servers seen" },
  behaviour: { es: "comportamiento", en: "behaviour" },
  bounds: { es: "cotas", en: "bounds" },
  cause: { es: "causa", en: "cause" },
  client: { es: "cliente", en: "client" },
  command: { es: "orden", en: "command" },
  code: { es: "código de salida", en: "exit code" },
  connections: { es: "conexiones", en: "connections" },
  dependsOn: { es: "depende de", en: "depends on" },
  durationMs: { es: "duración (ms)", en: "duration (ms)" },
  detail: { es: "detalle", en: "detail" },
  doing: { es: "en curso", en: "doing" },
  error: { es: "fallo", en: "error" },
  errorKind: { es: "tipo de fallo", en: "kind of error" },
  expected: { es: "esperado", en: "expected" },
  expectedFingerprint: { es: "huella esperada", en: "expected fingerprint" },
  expectedFrom: { es: "origen esperado", en: "expected from" },
  expectedSeconds: { es: "segundos esperados", en: "expected seconds" },
  failure: { es: "fallo", en: "failure" },
  family: { es: "familia", en: "family" },
  file: { es: "fichero", en: "file" },
  files: { es: "ficheros", en: "files" },
  fingerprint: { es: "huella", en: "fingerprint" },
  fix: { es: "cómo arreglarlo", en: "how to fix it" },
  found: { es: "encontrados", en: "found" },
  gateway: { es: "puerta de enlace", en: "gateway" },
  host: { es: "máquina", en: "host" },
  impostors: { es: "páginas ajenas", en: "impostors" },
  ipvsLoaded: { es: "IPVS cargado", en: "IPVS loaded" },
  left: { es: "salió de la tabla", en: "left the table" },
  leftAfterSeconds: { es: "salió tras (s)", en: "left after (s)" },
  listed: { es: "listados", en: "listed" },
  key: { es: "clave", en: "key" },
  value: { es: "valor", en: "value" },
  exitCode: { es: "estado de salida", en: "exit status" },
  loaded: { es: "cargados", en: "loaded" },
  message: { es: "mensaje", en: "message" },
  n: { es: "peticiones", en: "requests" },
  name: { es: "nombre", en: "name" },
  nested: { es: "anidado", en: "nested" },
  nValid: { es: "respuestas válidas", en: "valid answers" },
  os: { es: "sistema operativo", en: "operating system" },
  output: { es: "salida", en: "output" },
  outcome: { es: "resultado", en: "outcome" },
  persistent: { es: "persistencia (s)", en: "persistence (s)" },
  pids: { es: "PID", en: "PIDs" },
  pinnedAfter: { es: "fijado tras", en: "pinned after" },
  probes: { es: "conexiones TCP de prueba", en: "test TCP connections" },
  ran: { es: "se hizo", en: "ran" },
  reached: { es: "alcanzado", en: "reached" },
  realServers: { es: "servidores reales", en: "real servers" },
  reason: { es: "motivo", en: "reason" },
  remainingSeconds: { es: "segundos restantes", en: "remaining seconds" },
  required: { es: "necesarios", en: "required" },
  requiredFrom: { es: "necesarios según", en: "required from" },
  notNeeded: { es: "no necesarios", en: "not needed" },
  rules: { es: "reglas", en: "rules" },
  seen: { es: "visto", en: "seen" },
  service: { es: "servicio", en: "service" },
  stderr: { es: "salida de errores", en: "error output" },
  stdout: { es: "salida", en: "output" },
  switches: { es: "cambios de servidor", en: "switches" },
  tablePersistent: { es: "persistencia en la tabla (s)", en: "persistence in the table (s)" },
  tableWeights: { es: "pesos en la tabla", en: "weights in the table" },
  target: { es: "destino", en: "target" },
  template: { es: "plantilla", en: "template" },
  text: { es: "texto", en: "text" },
  timeoutMs: { es: "plazo (ms)", en: "deadline (ms)" },
  uncovered: { es: "sin cubrir", en: "uncovered" },
  outInterface: { es: "interfaz de salida", en: "out interface" },
  readable: { es: "legible", en: "readable" },
  ipForward: { es: "reenvío IP", en: "IP forwarding" },
  place: { es: "lugar de hagrade", en: "hagrade's place" },
  unreadable: { es: "tabla ilegible", en: "unreadable table" },
  urlPath: { es: "ruta de la URL", en: "URL path" },
  victim: { es: "servidor parado", en: "stopped server" },
  watchedSeconds: { es: "segundos observado", en: "seconds watched" },
};

/** A field of evidence named in `lang`; an unknown field keeps its key. */
export function fieldName(key: string, lang: Lang): string {
  return FIELD_NAMES[key]?.[lang] ?? key;
}

export function knownFields(): string[] {
  return Object.keys(FIELD_NAMES);
}
