/**
 * Secrets (SSH passwords, key passphrases, private key contents) are read only when a
 * connection needs them, and every value read is registered so reporters and logs can
 * `redact` it from any text they are about to write.
 */
import { readCapped } from "./read-capped.js";
import type { Text } from "../model/index.js";
import type { LabSpec, Secret } from "./schema.js";
import type { ResolvedSshTarget } from "./targets.js";

export type SecretErrorKind = "env-missing" | "file-missing" | "file-unreadable" | "file-empty";

export interface SecretError {
  kind: SecretErrorKind;
  /** The spec field the secret belongs to, e.g. `ssh.password`. */
  field: string;
  message: Text;
  fix: Text;
}

export type SecretResult = { ok: true; value: string } | { ok: false; error: SecretError };

export const REDACTED = "***";

/** A password or passphrase is one line; a bigger "secret file" is a wrong path (a log, /dev/zero). */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;
/** Private keys are a few KiB (RSA 16384 bits: 12 KiB). */
export const MAX_PRIVATE_KEY_BYTES = 64 * 1024;

/**
 * Shorter secrets are not redacted: "1" or "2026" would be cut out of every number and date of a
 * report. Such a password is guessed in seconds anyway; the run warns about it instead.
 */
export const MIN_REDACTED_SECRET_LENGTH = 6;

/** The warning for a secret too short to redact, in both languages. */
export const SHORT_SECRET_WARNING: Text = {
  es: `Aviso: una contraseña o frase de paso tiene menos de ${MIN_REDACTED_SECRET_LENGTH} caracteres; no se tapa en los informes (taparla estropearía números y fechas). Usa claves SSH, o una contraseña más larga.`,
  en: `Warning: a password or passphrase is shorter than ${MIN_REDACTED_SECRET_LENGTH} characters; it is not masked in the reports (masking it would mangle numbers and dates). Use SSH keys, or a longer password.`,
};

/** Key files are multi-line; a log may show one line of one (a parser error, a diff). */
const MIN_KEY_LINE_LENGTH = 16;

export class SecretRegistry {
  readonly #values = new Set<string>();
  #ordered: string[] | undefined;
  #tooShort = 0;

  /**
   * Registers a value read from a secret; empty values are ignored (they cannot leak), and values
   * shorter than MIN_REDACTED_SECRET_LENGTH are counted in `tooShort` instead (see there).
   */
  add(value: string): void {
    if (value === "") return;
    if (value.length < MIN_REDACTED_SECRET_LENGTH) {
      this.#tooShort++;
      return;
    }
    this.#ordered = undefined;
    this.#values.add(value);
    // Evidence is saved as JSON, where quotes and backslashes appear escaped.
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) this.#values.add(escaped);
    if (/[\r\n]/.test(value)) {
      for (const line of value.split(/\r?\n/)) {
        const trimmed = line.trim();
        if (trimmed.length >= MIN_KEY_LINE_LENGTH && !/^-----(BEGIN|END) /.test(trimmed)) this.#values.add(trimmed);
      }
      this.#values.add(value.replace(/\r\n/g, "\n"));
    }
  }

  get size(): number {
    return this.#values.size;
  }

  /** How many secrets were too short to redact: the run shows SHORT_SECRET_WARNING if any. */
  get tooShort(): number {
    return this.#tooShort;
  }

  /** `text` with every known secret value replaced by `***` (longest values first). */
  redact(text: string): string {
    if (this.#values.size === 0 || text === "") return text;
    this.#ordered ??= [...this.#values].sort((a, b) => b.length - a.length);
    let out = text;
    for (const value of this.#ordered) {
      if (out.includes(value)) out = out.split(value).join(REDACTED);
    }
    return out;
  }

  /** A copy of plain JSON-like data with every string (keys included) redacted. */
  redactDeep<T>(value: T): T {
    return this.#redactValue(value, 0) as T;
  }

  #redactValue(value: unknown, depth: number): unknown {
    if (typeof value === "string") return this.redact(value);
    if (depth > 64 || value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) return value.map((item) => this.#redactValue(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[this.redact(key)] = this.#redactValue(item, depth + 1);
    return out;
  }
}

function stripOneTrailingNewline(text: string): string {
  return text.replace(/\r?\n$/, "");
}

function fileError(field: string, file: string, code: string | undefined): SecretError {
  if (code === "ENOENT" || code === "ENOTDIR") {
    return {
      kind: "file-missing", field,
      message: { es: `No existe el fichero del secreto de ${field}: ${file}.`, en: `The secret file for ${field} does not exist: ${file}.` },
      fix: { es: "Crea el fichero con el secreto en una sola línea, o corrige la ruta.", en: "Create the file with the secret on one line, or correct the path." },
    };
  }
  return {
    kind: "file-unreadable", field,
    message: { es: `No se puede leer el fichero del secreto de ${field}: ${file} (${code ?? "error"}).`, en: `Cannot read the secret file for ${field}: ${file} (${code ?? "error"}).` },
    fix: { es: "Da permiso de lectura al usuario que ejecuta hagrade (y a nadie más).", en: "Give read permission to the user running hagrade (and nobody else)." },
  };
}

function tooLargeError(field: string, file: string, max: number): SecretError {
  return {
    kind: "file-unreadable", field,
    message: { es: `${file} (${field}) tiene más de ${max} bytes: no es un secreto ni una clave.`, en: `${file} (${field}) holds more than ${max} bytes: it is not a secret or a key.` },
    fix: { es: `Corrige la ruta de ${field}: un fichero normal con el secreto en una línea, o la clave privada.`, en: `Correct the path of ${field}: a plain file with the secret on one line, or the private key.` },
  };
}

export interface ResolveSecretOptions {
  env?: NodeJS.ProcessEnv;
  /** Where the value is registered for redaction. */
  registry?: SecretRegistry;
}

/** The value of `secret`; `field` names it in errors (the value itself never appears in them). */
export async function resolveSecret(secret: Secret, field: string, options: ResolveSecretOptions = {}): Promise<SecretResult> {
  let value: string;
  if (typeof secret === "string") {
    value = secret;
  } else if ("env" in secret) {
    const found = (options.env ?? process.env)[secret.env];
    if (found === undefined || found === "") {
      return { ok: false, error: {
        kind: "env-missing", field,
        message: { es: `La variable de entorno ${secret.env} (para ${field}) no está definida.`, en: `Environment variable ${secret.env} (for ${field}) is not set.` },
        fix: { es: `Defínela antes de ejecutar hagrade: export ${secret.env}=...`, en: `Set it before running hagrade: export ${secret.env}=...` },
      } };
    }
    value = found;
  } else {
    let content: string;
    try {
      const bytes = await readCapped(secret.file, MAX_SECRET_FILE_BYTES + 1);
      if (bytes.length > MAX_SECRET_FILE_BYTES) return { ok: false, error: tooLargeError(field, secret.file, MAX_SECRET_FILE_BYTES) };
      content = bytes.toString("utf8");
    } catch (error) {
      return { ok: false, error: fileError(field, secret.file, (error as NodeJS.ErrnoException).code) };
    }
    value = stripOneTrailingNewline(content);
    if (value === "") {
      return { ok: false, error: {
        kind: "file-empty", field,
        message: { es: `El fichero del secreto de ${field} está vacío: ${secret.file}.`, en: `The secret file for ${field} is empty: ${secret.file}.` },
        fix: { es: "Escribe el secreto en la primera línea del fichero.", en: "Write the secret on the file's first line." },
      } };
    }
  }
  options.registry?.add(value);
  return { ok: true, value };
}

/** Reads a private key file and registers its contents for redaction. */
export async function readPrivateKey(file: string, field: string, registry?: SecretRegistry): Promise<{ ok: true; key: Buffer } | { ok: false; error: SecretError }> {
  let key: Buffer;
  try {
    key = await readCapped(file, MAX_PRIVATE_KEY_BYTES + 1);
  } catch (error) {
    const failure = fileError(field, file, (error as NodeJS.ErrnoException).code);
    return { ok: false, error: {
      ...failure,
      message: { es: `No se puede leer la clave privada de ${field}: ${file}.`, en: `Cannot read the private key for ${field}: ${file}.` },
    } };
  }
  if (key.length > MAX_PRIVATE_KEY_BYTES) return { ok: false, error: tooLargeError(field, file, MAX_PRIVATE_KEY_BYTES) };
  if (key.length === 0) {
    return { ok: false, error: {
      kind: "file-empty", field,
      message: { es: `La clave privada de ${field} está vacía: ${file}.`, en: `The private key for ${field} is empty: ${file}.` },
      fix: { es: "Genera una con ssh-keygen -t ed25519.", en: "Generate one with ssh-keygen -t ed25519." },
    } };
  }
  registry?.add(key.toString("utf8"));
  return { ok: true, key };
}

export interface SshCredentials {
  privateKey?: Buffer;
  passphrase?: string;
  password?: string;
  agent?: string;
}

/** Everything an SSH connection to `target` needs, read now, every value registered. */
export async function loadSshCredentials(target: ResolvedSshTarget, registry: SecretRegistry, env: NodeJS.ProcessEnv = process.env): Promise<{ ok: true; credentials: SshCredentials } | { ok: false; error: SecretError }> {
  const credentials: SshCredentials = {};
  const label = (field: string): string => `ssh.${field} (${target.name})`;
  if (target.privateKeyPath !== undefined) {
    const key = await readPrivateKey(target.privateKeyPath, label("privateKey"), registry);
    if (!key.ok) return key;
    credentials.privateKey = key.key;
  }
  if (target.passphrase !== undefined) {
    const passphrase = await resolveSecret(target.passphrase, label("passphrase"), { env, registry });
    if (!passphrase.ok) return passphrase;
    credentials.passphrase = passphrase.value;
  }
  if (target.password !== undefined) {
    const password = await resolveSecret(target.password, label("password"), { env, registry });
    if (!password.ok) return password;
    credentials.password = password.value;
  }
  if (target.agent !== undefined) credentials.agent = target.agent;
  return { ok: true, credentials };
}

/**
 * The spec as plain JSON for a file that is not a secret (a restore journal): every secret written
 * inline (`password: "..."`) is left out and its field named; `{ env }` and `{ file }` references
 * stay, since they hold no secret.
 */
export function specWithoutInlineSecrets(spec: LabSpec): { spec: unknown; omitted: string[] } {
  const copy = JSON.parse(JSON.stringify(spec)) as Record<string, unknown>;
  const omitted: string[] = [];
  const strip = (holder: unknown, at: string) => {
    if (typeof holder !== "object" || holder === null) return;
    const record = holder as Record<string, unknown>;
    for (const field of ["password", "passphrase"]) {
      if (typeof record[field] === "string") {
        delete record[field];
        omitted.push(`${at}.${field}`);
      }
    }
  };
  strip(copy.ssh, "ssh");
  strip((copy.balancer as Record<string, unknown> | undefined)?.ssh, "balancer.ssh");
  if (Array.isArray(copy.backends)) copy.backends.forEach((b: unknown, i) => strip((b as Record<string, unknown> | null)?.ssh, `backends.${i}.ssh`));
  return { spec: copy, omitted };
}
