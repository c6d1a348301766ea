/**
 * The lab spec: what a teacher (or a student) writes so hagrade knows where the lab is and
 * what it should do. The shape is the one in docs/spec-contract.yaml.
 *
 * Parsing fills every default and derives each backend's `identity` and `route`, so the rest
 * of the engine reads `spec.backends[i].route` and never recomputes it. Paths inside the spec
 * (keys, known_hosts, secret files) are made absolute by `loadSpec`, not here: the schema does
 * not know which folder the spec came from.
 */
import { isIP } from "node:net";
import { z } from "zod";
import type { Text } from "../model/index.js";

export const LVS_STEPS = ["rr", "wrr", "persistence", "http-get", "final"] as const;
export const PROXY_STEPS = ["byrequests", "loadfactor", "sticky", "final"] as const;
export const STEPS = ["rr", "wrr", "persistence", "http-get", "byrequests", "loadfactor", "sticky", "final"] as const;

export const SPEC_LIMITS = {
  minBackends: 2,
  maxBackends: 32,
  /** Timeouts are milliseconds; below this a teacher almost surely wrote seconds. */
  minTimeoutMs: 100,
  maxTimeoutMs: 3_600_000,
  minRequests: 10,
  maxRequests: 10_000,
  maxRatePerSecond: 1000,
  /** keepalived's own range for persistence_timeout (it rejects 0: "0 = off" means omit the line). */
  maxPersistenceTimeout: 2_678_400,
  maxLoadfactor: 100,
  /** IPVS weights are 16-bit in keepalived. */
  maxWeight: 65_535,
  maxPathLength: 4096,
} as const;

export const DEFAULT_IDENTITY_PATTERN = "Bienvenido a webserver(\\d+)";
export const DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts";
export const DEFAULT_PAGE_PATH = "/var/www/html/index.html";

export const NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const ROUTE_PATTERN = /^[A-Za-z0-9._~-]{1,64}$/;
/** Cookie names are RFC 6265 tokens. */
export const COOKIE_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
export const CHECK_ID_PATTERN = /^[a-z0-9]+(?:[.-][a-z0-9]+)*$/;
/** The form `ssh-keygen -lf` and OpenSSH print: base64 of a SHA-256 digest without padding. */
export const FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{43}=?$/;
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const USER_PATTERN = /^[A-Za-z0-9._][A-Za-z0-9._@-]{0,63}$/;
const HOSTNAME_PATTERN = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
/**
 * A plain URL path, safe to hand to curl, wget or an HTTP request line built in a shell command:
 * "/", letters, digits, `. _ ~ - + , = : @`, percent escapes, and a query of the same with `&`
 * and `?`. No quote, `$`, backtick, parenthesis, blank or bare `%` (a printf format).
 */
export const SAFE_URL_PATH = /^\/(?:[A-Za-z0-9._~+,=:@/-]|%[0-9A-Fa-f]{2})*(?:\?(?:[A-Za-z0-9._~+,=:@/?&-]|%[0-9A-Fa-f]{2})*)?$/;
const HOST_HEADER_PATTERN = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;
const REMOTE_PATH_PATTERN = /^\/[^\0\n\r]*$/;
const EMAIL_PATTERN = /^[^\s@]{1,64}@[^\s@]{1,190}$/;
const REGEX_FLAGS_PATTERN = /^[dimsuv]{0,6}$/;
/** YAML 1.1 booleans that YAML 1.2 reads as text: `agent: yes` must not become a socket path. */
const BOOLEAN_WORDS = new Set(["yes", "no", "on", "off", "true", "false", "y", "n"]);

const always = (): boolean => true;

/** A problem raised by a refinement carries its own bilingual message and fix. */
export interface SpecIssueParams {
  message: Text;
  fix: Text;
}

type IssueSink = { addIssue(issue: { code: "custom"; message: string; path?: PropertyKey[]; params?: Record<string, unknown> }): void };

function report(ctx: IssueSink, path: PropertyKey[], message: Text, fix: Text): void {
  const params: SpecIssueParams = { message, fix };
  ctx.addIssue({ code: "custom", message: message.en, path, params: { ...params } });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `null` and absence mean the same in a spec (the contract writes `host: null`). */
function optional<T extends z.ZodType>(schema: T) {
  return schema.nullable().transform((value): z.output<T> | undefined => value ?? undefined).optional();
}

export function regexCompileError(source: string, flags = ""): string | undefined {
  try {
    new RegExp(source, flags);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * The part of a regular expression that can backtrack exponentially, if any: a repeated group
 * (`*`, `+`, `{n,}`, `{n,m}` with m > 1) that itself holds a varying repeat or alternates, as in `(a+)+`,
 * `(\\w*)*` or `(a|ab)+`. Matching such a pattern against a page the student controls can block
 * the grader for minutes, so the spec refuses it. A conservative scan of the source, not a parser:
 * it may refuse a harmless `(?:ab|cd)+`, which a character class or a single repeat rewrites.
 */
export function backtrackingRisk(source: string): string | undefined {
  interface Frame { start: number; repeats: boolean; alternates: boolean }
  const stack: Frame[] = [{ start: 0, repeats: false, alternates: false }];
  /**
   * The quantifier at `i`: its length (0 if none), whether it allows more than one repeat and
   * whether the number of repeats varies (`{3}` repeats but does not vary).
   */
  const quantifierAt = (i: number): { length: number; many: boolean; varies: boolean } => {
    const char = source[i];
    if (char === "*" || char === "+") return { length: 1, many: true, varies: true };
    if (char === "?") return { length: 1, many: false, varies: true };
    if (char === "{") {
      const bounds = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i, i + 32));
      if (!bounds) return { length: 0, many: false, varies: false };
      const min = Number(bounds[1]);
      const max = bounds[2] === undefined ? min : bounds[3] === "" ? Infinity : Number(bounds[3]);
      return { length: bounds[0].length, many: max > 1, varies: max > min };
    }
    return { length: 0, many: false, varies: false };
  };
  for (let i = 0; i < source.length; i++) {
    const char = source[i] as string;
    const top = stack[stack.length - 1] as Frame;
    let atomEnd = i;
    let closed: Frame | undefined;
    if (char === "\\") atomEnd = i + 1;
    else if (char === "[") {
      let k = i + 1;
      if (source[k] === "^") k++;
      if (source[k] === "]") k++;
      while (k < source.length && source[k] !== "]") k += source[k] === "\\" ? 2 : 1;
      atomEnd = k;
    } else if (char === "(") {
      stack.push({ start: i, repeats: false, alternates: false });
      continue;
    } else if (char === "|") {
      top.alternates = true;
      continue;
    } else if (char === ")") {
      if (stack.length === 1) continue;
      closed = stack.pop() as Frame;
    }
    const quantifier = quantifierAt(atomEnd + 1);
    const parent = stack[stack.length - 1] as Frame;
    if (closed !== undefined) {
      if (quantifier.many && (closed.repeats || closed.alternates)) {
        return source.slice(closed.start, atomEnd + 1 + quantifier.length);
      }
      parent.repeats ||= closed.repeats || quantifier.varies;
    } else if (quantifier.varies) parent.repeats = true;
    i = atomEnd + quantifier.length;
    if (quantifier.length > 0 && source[i + 1] === "?") i++;
  }
  return undefined;
}

/** Counts capturing groups (named ones too) by matching the empty alternative. */
export function captureGroupCount(source: string, flags = ""): number {
  try {
    const match = new RegExp(`${source}|`, flags.replace(/[gy]/g, "")).exec("");
    return match ? match.length - 1 : 0;
  } catch {
    return 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Scalars

const ipv4 = z.ipv4().superRefine((address, ctx) => {
  if (address === "0.0.0.0" || address === "255.255.255.255") {
    report(ctx, [], {
      es: `${address} no es la dirección de ninguna máquina.`,
      en: `${address} is not the address of a machine.`,
    }, {
      es: "Escribe la dirección IPv4 real de la máquina, p. ej. 192.168.0.10.",
      en: "Write the machine's real IPv4 address, e.g. 192.168.0.10.",
    });
  }
});

const port = z.int().min(1).max(65_535);

const host = z.string().min(1).max(253).superRefine((value, ctx) => {
  const numeric = /^[\d.]+$/.test(value);
  const valid = isIP(value) !== 0 || (!numeric && HOSTNAME_PATTERN.test(value));
  if (!valid) {
    report(ctx, [], {
      es: `"${value}" no es una dirección IP ni un nombre de máquina válido.`,
      en: `"${value}" is neither an IP address nor a valid host name.`,
    }, {
      es: "Escribe una IPv4 (cuatro números de 0 a 255 separados por puntos) o un nombre DNS.",
      en: "Write an IPv4 address (four numbers 0-255 separated by dots) or a DNS name.",
    });
  }
});

const filePath = z.string().min(1).max(SPEC_LIMITS.maxPathLength).regex(/^[^\0]*$/);

const regexSource = z.string().min(1).max(1000).superRefine((source, ctx) => {
  // Flags are checked with the whole spec; here only "does it compile at all".
  const plain = regexCompileError(source);
  if (plain !== undefined && regexCompileError(source, "u") !== undefined) {
    report(ctx, [], {
      es: `La expresión regular no compila: ${plain}.`,
      en: `The regular expression does not compile: ${plain}.`,
    }, {
      es: "Corrige la expresión (JavaScript). Escapa con \\ los caracteres especiales como ( ) [ ] . * + ?",
      en: "Fix the (JavaScript) regular expression. Escape special characters such as ( ) [ ] . * + ? with \\.",
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Secrets and SSH

const envSecret = z.strictObject({ env: z.string().regex(ENV_NAME_PATTERN) });
const fileSecret = z.strictObject({ file: filePath });
/** `{ env: NAME }`, `{ file: path }` or the value written inline (discouraged: a warning says so). */
export const secretSchema = z.union([z.string().min(1).max(4096), envSecret, fileSecret]);

const agent = z.union([
  z.boolean(),
  filePath.superRefine((value, ctx) => {
    if (BOOLEAN_WORDS.has(value.toLowerCase())) {
      report(ctx, [], {
        es: `"${value}" se lee como texto, no como sí/no.`,
        en: `"${value}" is read as text, not as yes/no.`,
      }, {
        es: "Escribe true o false (sin comillas), o la ruta del socket del agente.",
        en: "Write true or false (without quotes), or the path of the agent's socket.",
      });
    }
  }),
]);

const user = z.string().regex(USER_PATTERN);
const fingerprint = z.string().regex(FINGERPRINT_PATTERN);

/** How to reach one machine over SSH; every field falls back to the top-level `ssh` defaults. */
export const sshTargetSchema = z.strictObject({
  host: optional(host),
  port: optional(port),
  user: optional(user),
  privateKey: optional(filePath),
  passphrase: optional(secretSchema),
  password: optional(secretSchema),
  agent: optional(agent),
  knownHosts: optional(filePath),
  hostKey: optional(fingerprint),
  jump: optional(z.enum(["balancer", "none"])),
});

/**
 * `user`, `port`, `agent` and `knownHosts` stay unset when the spec does not write them: the
 * student's ssh_config (`config`) comes between the spec and the built-in defaults (root, 22,
 * the agent when one runs, ~/.ssh/known_hosts), as it does between ssh's command line and its
 * defaults. See config/targets.ts.
 */
export const sshDefaultsSchema = z.strictObject({
  user: optional(user),
  port: optional(port),
  privateKey: optional(filePath),
  passphrase: optional(secretSchema),
  password: optional(secretSchema),
  agent: optional(agent),
  knownHosts: optional(filePath),
  /** An OpenSSH client configuration to read (default ~/.ssh/config); false: none. */
  config: optional(z.union([z.literal(false), filePath])),
  hostKeys: z.record(z.string().min(1).max(253), fingerprint).default({}),
  sudo: z.enum(["auto", "always", "never"]).default("auto"),
});

// ---------------------------------------------------------------------------------------------
// Machines

const vipSchema = z.strictObject({
  address: ipv4,
  port: port.default(80),
  path: z.string().max(2048).regex(SAFE_URL_PATH).default("/"),
  host: optional(z.string().regex(HOST_HEADER_PATTERN)),
  /**
   * The VIP as the balancer holds it, when `address`:`port` is a port forward in front of it
   * (VirtualBox NAT: 127.0.0.1:8080 forwards to the VIP's port 80): the checks that read the
   * balancer's configuration and IPVS table look for this one.
   */
  forwardsTo: optional(z.strictObject({ address: ipv4, port: port.default(80) })),
});

const graderSchema = z.strictObject({
  sourceAddresses: z.array(ipv4).max(64).default([]).superRefine((addresses, ctx) => {
    addresses.forEach((address, index) => {
      const first = addresses.indexOf(address);
      if (first !== index) {
        report(ctx, [index], {
          es: `La dirección ${address} ya está en grader.sourceAddresses[${first}].`,
          en: `Address ${address} is already grader.sourceAddresses[${first}].`,
        }, { es: "Quita la repetida.", en: "Remove the repeated one." });
      }
    });
  }),
  natTarget: z.strictObject({
    address: optional(ipv4),
    port: optional(port),
  }).prefault({}),
});

const balancerSchema = z.strictObject({
  internalAddress: ipv4,
  serviceAddress: optional(ipv4),
  ssh: optional(sshTargetSchema),
  /**
   * hagrade runs on the balancer itself: its commands run on this machine, no SSH to it. Without
   * the field, that is decided when `ssh` is absent and an address of the balancer is local.
   */
  local: optional(z.boolean()),
  /** A second director sharing the VIP by VRRP (BACKUP); the balancer above is the MASTER. */
  backup: optional(z.strictObject({ serviceAddress: ipv4 })),
});

const command = z.string().min(1).max(2000).regex(/^[^\n\r\0]*$/);

const backendInputSchema = z.strictObject({
  name: z.string().regex(NAME_PATTERN).superRefine((name, ctx) => {
    if (name === "balancer") {
      report(ctx, [], {
        es: `"balancer" es el nombre reservado del balanceador.`,
        en: `"balancer" is the reserved name of the balancer.`,
      }, { es: "Llama al servidor web p. ej. webserver1.", en: "Name the web server e.g. webserver1." });
    }
  }),
  address: ipv4,
  port: port.default(80),
  identity: optional(z.union([z.string().min(1).max(64), z.int().min(0)]).transform(String)),
  match: optional(regexSource),
  weight: optional(z.int().min(1).max(SPEC_LIMITS.maxWeight)),
  loadfactor: z.int().min(1).max(SPEC_LIMITS.maxLoadfactor).default(1),
  route: optional(z.string().regex(ROUTE_PATTERN)),
  ssh: optional(sshTargetSchema),
  service: z.strictObject({
    stop: optional(command),
    start: optional(command),
  }).prefault({}),
  pagePath: z.string().max(SPEC_LIMITS.maxPathLength).regex(REMOTE_PATH_PATTERN).default(DEFAULT_PAGE_PATH),
});

type BackendInputOutput = z.output<typeof backendInputSchema>;
/** A web server of the farm, with `identity` and `route` always filled in. */
export type Backend = Omit<BackendInputOutput, "identity" | "route"> & { identity: string; route: string };

/** The identity a backend gets when the spec names none: trailing digits of its name, else its position. */
export function defaultIdentity(name: string, index: number): string {
  return /(\d+)$/.exec(name)?.[1] ?? String(index + 1);
}

export function defaultRoute(identity: string): string {
  return `wsrv${identity}`;
}

/**
 * Runs on the raw list too (`when: always`), so a repeated name is reported together with,
 * say, a bad address in another backend instead of one round later.
 */
function checkBackendsUnique(list: unknown, ctx: IssueSink): void {
  if (!Array.isArray(list)) return;
  const seen: Record<"name" | "address" | "identity" | "route", Map<string, number>> = {
    name: new Map(), address: new Map(), identity: new Map(), route: new Map(),
  };
  list.forEach((raw: unknown, index) => {
    if (!isRecord(raw)) return;
    const name = typeof raw.name === "string" ? raw.name : undefined;
    const explicitIdentity = typeof raw.identity === "string" || typeof raw.identity === "number" ? String(raw.identity) : undefined;
    const identity = explicitIdentity ?? (name !== undefined ? defaultIdentity(name, index) : undefined);
    const explicitRoute = typeof raw.route === "string" ? raw.route : undefined;
    const route = explicitRoute ?? (identity !== undefined ? defaultRoute(identity) : undefined);
    const values = { name, address: typeof raw.address === "string" ? raw.address : undefined, identity, route };
    const repeated = new Set<string>();
    for (const field of ["name", "address", "identity", "route"] as const) {
      const value = values[field];
      if (value === undefined) continue;
      const first = seen[field].get(value);
      if (first === undefined) {
        seen[field].set(value, index);
        continue;
      }
      repeated.add(field);
      const derived = (field === "identity" && explicitIdentity === undefined) || (field === "route" && explicitRoute === undefined);
      // A repeated name repeats what is derived from it: one problem is enough.
      if (derived && repeated.has(field === "identity" ? "name" : "identity")) continue;
      report(ctx, [index, field], {
        es: `backends[${index}] tiene ${field} "${value}"${derived ? " (deducido)" : ""}, igual que backends[${first}]: cada servidor web debe ser distinguible.`,
        en: `backends[${index}] has ${field} "${value}"${derived ? " (derived)" : ""}, the same as backends[${first}]: each web server must be told apart.`,
      }, derived ? {
        es: `Escribe ${field}: explícitamente en cada servidor (p. ej. identity: "2", route: wsrv2).`,
        en: `Write ${field}: explicitly for each server (e.g. identity: "2", route: wsrv2).`,
      } : {
        es: `Cambia ${field} de uno de los dos servidores.`,
        en: `Change the ${field} of one of the two servers.`,
      });
    }
    if (explicitRoute === undefined && route !== undefined && !ROUTE_PATTERN.test(route)) {
      report(ctx, [index, "route"], {
        es: `La ruta deducida "${route}" no vale como route de Apache.`,
        en: `The derived route "${route}" is not a valid Apache route.`,
      }, {
        es: "Escribe route: con letras, dígitos, '.', '_', '~' o '-' (p. ej. wsrv1).",
        en: "Write route: with letters, digits, '.', '_', '~' or '-' (e.g. wsrv1).",
      });
    }
  });
}

const backendsSchema = z.array(backendInputSchema)
  .min(SPEC_LIMITS.minBackends)
  .max(SPEC_LIMITS.maxBackends)
  .superRefine(checkBackendsUnique, { when: always })
  .transform((list): Backend[] => list.map((backend, index) => {
    const identity = backend.identity ?? defaultIdentity(backend.name, index);
    return { ...backend, identity, route: backend.route ?? defaultRoute(identity) };
  }));

const identitySchema = z.strictObject({
  pattern: regexSource.default(DEFAULT_IDENTITY_PATTERN),
  flags: z.string().regex(REGEX_FLAGS_PATTERN).default("i"),
});

// ---------------------------------------------------------------------------------------------
// The whole spec

const timeoutMs = z.int().min(SPEC_LIMITS.minTimeoutMs).max(SPEC_LIMITS.maxTimeoutMs);

function reportBacktracking(ctx: IssueSink, path: (string | number)[], risky: string): void {
  report(ctx, path, {
    es: `La expresión repite "${risky}", un grupo que ya repite o alterna: sobre una página hostil puede tardar minutos en responder.`,
    en: `The pattern repeats "${risky}", a group that itself repeats or alternates: on a hostile page it can take minutes to answer.`,
  }, {
    es: "Repite una sola vez: p. ej. (\\d+) en vez de (\\d+)+, o [ab]+ en vez de (a|b)+.",
    en: "Repeat only once: e.g. (\\d+) instead of (\\d+)+, or [ab]+ instead of (a|b)+.",
  });
}

/** Checks that read several fields; defensive because they also run when some fields are invalid. */
function checkAcrossFields(spec: unknown, ctx: IssueSink): void {
  if (!isRecord(spec)) return;
  const part = spec.part;
  const step = spec.step;
  if (typeof step === "string" && (part === "lvs" || part === "proxy")) {
    const allowed: readonly string[] = part === "lvs" ? LVS_STEPS : PROXY_STEPS;
    if (!allowed.includes(step)) {
      report(ctx, ["step"], {
        es: `El paso "${step}" no pertenece a la parte ${part}.`,
        en: `Step "${step}" does not belong to part ${part}.`,
      }, {
        es: `Con part: ${part} usa uno de: ${allowed.join(", ")}; o cambia part.`,
        en: `With part: ${part} use one of: ${allowed.join(", ")}; or change part.`,
      });
    }
  }

  const balancer = spec.balancer;
  if (isRecord(balancer) && isRecord(balancer.ssh) && balancer.ssh.jump === "balancer") {
    report(ctx, ["balancer", "ssh", "jump"], {
      es: "El balanceador no puede saltar a través de sí mismo.",
      en: "The balancer cannot jump through itself.",
    }, { es: "Quita jump: o escribe jump: none.", en: "Remove jump: or write jump: none." });
  }

  const identity = isRecord(spec.identity) ? spec.identity : {};
  const flags = typeof identity.flags === "string" && REGEX_FLAGS_PATTERN.test(identity.flags) ? identity.flags : "i";
  const flagsError = regexCompileError("", flags);
  if (flagsError !== undefined) {
    report(ctx, ["identity", "flags"], {
      es: `Las banderas "${flags}" no son válidas juntas.`,
      en: `Flags "${flags}" are not valid together.`,
    }, {
      es: "Usa cada bandera una vez, y no u con v; lo habitual es \"i\".",
      en: "Use each flag once, and not u together with v; the usual value is \"i\".",
    });
    return;
  }
  const pattern = typeof identity.pattern === "string" ? identity.pattern : DEFAULT_IDENTITY_PATTERN;
  const patternError = regexCompileError(pattern, flags);
  if (patternError !== undefined) {
    report(ctx, ["identity", "pattern"], {
      es: `La expresión no compila con las banderas "${flags}": ${patternError}.`,
      en: `The pattern does not compile with flags "${flags}": ${patternError}.`,
    }, { es: "Corrige la expresión o las banderas.", en: "Fix the pattern or the flags." });
  } else if (backtrackingRisk(pattern) !== undefined) {
    reportBacktracking(ctx, ["identity", "pattern"], backtrackingRisk(pattern) as string);
  } else {
    const groups = captureGroupCount(pattern, flags);
    if (groups !== 1) {
      report(ctx, ["identity", "pattern"], {
        es: `La expresión tiene ${groups} grupos de captura; debe tener exactamente uno, el que captura la identidad del servidor.`,
        en: `The pattern has ${groups} capture groups; it must have exactly one, the one that captures the server's identity.`,
      }, {
        es: "Rodea la parte que cambia entre servidores con ( ) y usa (?: ) para los demás grupos, p. ej. \"Bienvenido a webserver(\\\\d+)\".",
        en: "Wrap the part that differs between servers in ( ) and use (?: ) for other groups, e.g. \"Bienvenido a webserver(\\\\d+)\".",
      });
    }
  }
  if (Array.isArray(spec.backends)) {
    spec.backends.forEach((backend: unknown, index) => {
      if (!isRecord(backend) || typeof backend.match !== "string") return;
      const matchError = regexCompileError(backend.match, flags);
      if (matchError !== undefined && regexCompileError(backend.match) === undefined) {
        report(ctx, ["backends", index, "match"], {
          es: `La expresión no compila con las banderas "${flags}": ${matchError}.`,
          en: `The expression does not compile with flags "${flags}": ${matchError}.`,
        }, { es: "Corrige la expresión o identity.flags.", en: "Fix the expression or identity.flags." });
      } else if (matchError === undefined && backtrackingRisk(backend.match) !== undefined) {
        reportBacktracking(ctx, ["backends", index, "match"], backtrackingRisk(backend.match) as string);
      }
    });
  }
}

export const labSpecSchema = z.strictObject({
  /** Lets JSON specs name their JSON Schema for editors. */
  $schema: z.string().max(2048).optional(),
  version: z.literal(1).default(1),
  lab: z.string().regex(NAME_PATTERN).superRefine((name, ctx) => {
    if (name === "." || name === "..") {
      report(ctx, [], {
        es: `"${name}" no sirve como nombre de carpeta de informes.`,
        en: `"${name}" cannot be the name of a report folder.`,
      }, { es: "Usa p. ej. lab: alumno-01.", en: "Use e.g. lab: alumno-01." });
    }
  }),
  student: optional(z.strictObject({
    id: optional(z.string().min(1).max(200)),
    name: optional(z.string().min(1).max(200)),
    email: optional(z.string().max(254).regex(EMAIL_PATTERN)),
  })),
  lang: z.enum(["es", "en"]).default("es"),
  part: z.enum(["auto", "lvs", "proxy"]).default("auto"),
  step: optional(z.enum(STEPS)),
  vip: vipSchema,
  grader: graderSchema.prefault({}),
  balancer: balancerSchema,
  backends: backendsSchema,
  identity: identitySchema.prefault({}),
  expect: z.strictObject({
    lbAlgo: optional(z.enum(["rr", "wrr"])),
    modules: optional(z.array(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/)).min(1).max(32)),
    persistenceTimeout: z.int().min(0).max(SPEC_LIMITS.maxPersistenceTimeout).default(1200),
    cookieName: z.string().regex(COOKIE_NAME_PATTERN).default("ROUTEID"),
  }).prefault({}),
  ssh: sshDefaultsSchema.prefault({}),
  rubric: z.strictObject({
    points: z.record(z.string().regex(CHECK_ID_PATTERN), z.number().min(0).max(100)).default({}),
    minScore: optional(z.number().min(0).max(10_000)),
  }).prefault({}),
  timeouts: z.strictObject({
    connect: timeoutMs.default(3000),
    request: timeoutMs.default(5000),
    ssh: timeoutMs.default(10_000),
    failover: timeoutMs.default(30_000),
    rejoin: timeoutMs.default(90_000),
  }).prefault({}),
  sampling: z.strictObject({
    maxRequests: z.int().min(SPEC_LIMITS.minRequests).max(SPEC_LIMITS.maxRequests).default(400),
    ratePerSecond: z.number().min(1).max(SPEC_LIMITS.maxRatePerSecond).default(200),
  }).prefault({}),
}).superRefine(checkAcrossFields, { when: always });

/** The spec as the engine reads it: defaults applied, identities and routes derived. */
export type LabSpec = z.output<typeof labSpecSchema>;
/** The spec as a file may write it (most fields optional). */
export type LabSpecInput = z.input<typeof labSpecSchema>;
export type SshTarget = z.output<typeof sshTargetSchema>;
export type SshDefaults = z.output<typeof sshDefaultsSchema>;
export type Secret = z.output<typeof secretSchema>;
export type Step = (typeof STEPS)[number];

export { resolveSshTargets, type ResolvedSshTarget } from "./targets.js";
