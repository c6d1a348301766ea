/**
 * Checks the files a spec points to on the grader's machine (keys, secret files, known_hosts,
 * agent sockets) before any connection is tried, so "key not found" is a spec problem naming
 * the field instead of an SSH failure in the middle of a run. Works on the raw parsed data so
 * these problems are reported together with schema problems. File contents are never shown.
 */
import { constants as fsConstants } from "node:fs";
import { access, open, stat } from "node:fs/promises";
import type { Stats } from "node:fs";
import type { Text } from "../model/index.js";
import { formatFieldPath } from "./fields.js";
import { resolveSpecPath, isWindowsPipe, type PathContext } from "./paths.js";
import { specProblem, type LineOf, type SpecProblem } from "./problems.js";

export interface LocalFileFindings {
  problems: SpecProblem[];
  warnings: SpecProblem[];
}

interface SshBlock {
  path: PropertyKey[];
  block: Record<string, unknown>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Every place SSH settings may be written: top-level defaults, the balancer, each backend. */
export function sshBlocks(raw: unknown): SshBlock[] {
  if (!isRecord(raw)) return [];
  const blocks: SshBlock[] = [];
  if (isRecord(raw.ssh)) blocks.push({ path: ["ssh"], block: raw.ssh });
  if (isRecord(raw.balancer) && isRecord(raw.balancer.ssh)) blocks.push({ path: ["balancer", "ssh"], block: raw.balancer.ssh });
  if (Array.isArray(raw.backends)) {
    raw.backends.forEach((backend: unknown, index) => {
      if (isRecord(backend) && isRecord(backend.ssh)) blocks.push({ path: ["backends", index, "ssh"], block: backend.ssh });
    });
  }
  return blocks;
}

/** Inline secret values written in the spec, to scrub from any text as a second guard. */
export function inlineSecrets(raw: unknown): string[] {
  const values: string[] = [];
  for (const { block } of sshBlocks(raw)) {
    for (const field of ["password", "passphrase"]) {
      const value = block[field];
      if (typeof value === "string" && value !== "") values.push(value);
    }
  }
  return values;
}

async function statOrError(file: string): Promise<Stats | NodeJS.ErrnoException> {
  try {
    return await stat(file);
  } catch (error) {
    return error as NodeJS.ErrnoException;
  }
}

async function isReadable(file: string): Promise<boolean> {
  try {
    await access(file, fsConstants.R_OK);
    return true;
  } catch {
    return false;
  }
}

async function readHead(file: string, bytes: number): Promise<string> {
  const handle = await open(file, "r");
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead).toString("latin1");
  } finally {
    await handle.close();
  }
}

const MAX_KEY_BYTES = 64 * 1024;

function relativeNote(written: string, resolved: string, lang: "es" | "en"): string {
  if (written === resolved) return "";
  return lang === "es" ? ` ("${written}" se resolvió como ${resolved})` : ` ("${written}" resolved to ${resolved})`;
}

export async function checkLocalFiles(raw: unknown, context: PathContext, env: NodeJS.ProcessEnv, lineOf?: LineOf): Promise<LocalFileFindings> {
  const problems: SpecProblem[] = [];
  const warnings: SpecProblem[] = [];
  const fail = (path: PropertyKey[], message: Text, fix: Text): void => void problems.push(specProblem(path, message, fix, lineOf));
  const warn = (path: PropertyKey[], message: Text, fix: Text): void => void warnings.push(specProblem(path, message, fix, lineOf));
  const posix = context.pathApi.sep === "/";

  /** Common checks for a file that must exist and be read; returns its stats when usable. */
  const requireFile = async (path: PropertyKey[], written: string, what: Text, createHint: Text): Promise<{ file: string; stats: Stats } | undefined> => {
    const file = resolveSpecPath(written, context);
    const note = { es: relativeNote(written, file, "es"), en: relativeNote(written, file, "en") };
    const found = await statOrError(file);
    if (found instanceof Error) {
      const missing = found.code === "ENOENT" || found.code === "ENOTDIR";
      fail(path, missing ? {
        es: `No existe ${what.es}: ${file}${note.es}.`,
        en: `${what.en} not found: ${file}${note.en}.`,
      } : {
        es: `No se puede acceder a ${what.es} ${file} (${found.code ?? "error"}).`,
        en: `Cannot access ${what.en} ${file} (${found.code ?? "error"}).`,
      }, {
        es: `Corrige la ruta (las rutas relativas parten de la carpeta del spec, ${context.baseDir}) o ${createHint.es}.`,
        en: `Correct the path (relative paths start at the spec's folder, ${context.baseDir}) or ${createHint.en}.`,
      });
      return undefined;
    }
    if (found.isDirectory()) {
      fail(path, {
        es: `${file} es una carpeta, no ${what.es}.`,
        en: `${file} is a folder, not ${what.en}.`,
      }, { es: "Escribe la ruta del fichero, no la de su carpeta.", en: "Write the path of the file, not of its folder." });
      return undefined;
    }
    if (!found.isFile()) {
      // A device or a pipe has no contents to check and may never end (/dev/zero, a FIFO nobody writes).
      fail(path, {
        es: `${file} es un dispositivo, una tubería o un socket, no un fichero normal: no sirve como ${what.es}.`,
        en: `${file} is a device, pipe or socket, not a regular file: it cannot serve as ${what.en.toLowerCase()}.`,
      }, { es: "Escribe la ruta de un fichero normal.", en: "Write the path of a regular file." });
      return undefined;
    }
    if (!(await isReadable(file))) {
      fail(path, {
        es: `${file} existe pero el usuario que ejecuta hagrade no puede leerlo.`,
        en: `${file} exists but the user running hagrade cannot read it.`,
      }, { es: "Da permiso de lectura a ese usuario (chmod 600 y chown).", en: "Give that user read permission (chmod 600 and chown)." });
      return undefined;
    }
    if (found.size === 0) {
      fail(path, { es: `${file} está vacío.`, en: `${file} is empty.` }, createHint.es.length > 0
        ? { es: `Escribe el contenido correcto o ${createHint.es}.`, en: `Write the right content or ${createHint.en}.` }
        : { es: "Escribe su contenido.", en: "Write its content." });
      return undefined;
    }
    return { file, stats: found };
  };

  const checkPrivateKey = async (path: PropertyKey[], written: string): Promise<void> => {
    const usable = await requireFile(path, written, { es: "el fichero de clave privada", en: "Private key file" }, {
      es: "créala con ssh-keygen -t ed25519 -f <ruta> y copia la pública con ssh-copy-id",
      en: "create it with ssh-keygen -t ed25519 -f <path> and install the public half with ssh-copy-id",
    });
    if (!usable) return;
    if (usable.stats.size > MAX_KEY_BYTES) {
      fail(path, { es: `${usable.file} es demasiado grande para ser una clave privada.`, en: `${usable.file} is too large to be a private key.` },
        { es: "Escribe la ruta de la clave privada (p. ej. ~/.ssh/id_ed25519).", en: "Write the path of the private key (e.g. ~/.ssh/id_ed25519)." });
      return;
    }
    let head: string;
    try {
      head = await readHead(usable.file, 4096);
    } catch {
      return;
    }
    if (/^(ssh-|ecdsa-|sk-)[a-z0-9@.-]+ AAAA/.test(head)) {
      fail(path, {
        es: `${usable.file} es una clave PÚBLICA; hagrade necesita la privada.`,
        en: `${usable.file} is a PUBLIC key; hagrade needs the private one.`,
      }, { es: "Escribe la ruta sin .pub (p. ej. ~/.ssh/id_ed25519).", en: "Write the path without .pub (e.g. ~/.ssh/id_ed25519)." });
      return;
    }
    if (!/PRIVATE KEY-----|PuTTY-User-Key-File/.test(head)) {
      warn(path, {
        es: `${usable.file} no parece una clave privada (OpenSSH, PEM o PuTTY).`,
        en: `${usable.file} does not look like a private key (OpenSSH, PEM or PuTTY).`,
      }, { es: "Comprueba que la ruta es la de la clave privada.", en: "Check the path is the private key's." });
    }
    if (posix && (usable.stats.mode & 0o077) !== 0) {
      warn(path, {
        es: `${usable.file} lo pueden leer otros usuarios.`,
        en: `${usable.file} is readable by other users.`,
      }, { es: `Ejecuta chmod 600 ${usable.file}`, en: `Run chmod 600 ${usable.file}` });
    }
  };

  const checkSecret = async (path: PropertyKey[], secret: unknown): Promise<void> => {
    const name = formatFieldPath(path);
    if (typeof secret === "string") {
      warn(path, {
        es: `${name} está escrito en claro en el fichero del spec.`,
        en: `${name} is written in clear text in the spec file.`,
      }, {
        es: `Usa ${String(path[path.length - 1])}: { env: HAGRADE_SSH_${String(path[path.length - 1]).toUpperCase()} } y exporta la variable, o { file: ruta } con un fichero que solo tú puedas leer.`,
        en: `Use ${String(path[path.length - 1])}: { env: HAGRADE_SSH_${String(path[path.length - 1]).toUpperCase()} } and export the variable, or { file: path } to a file only you can read.`,
      });
      return;
    }
    if (!isRecord(secret)) return;
    if (typeof secret.env === "string" && Object.keys(secret).length === 1) {
      const value = env[secret.env];
      if (value === undefined || value === "") {
        warn(path, {
          es: `La variable de entorno ${secret.env} (para ${name}) no está definida ahora.`,
          en: `Environment variable ${secret.env} (for ${name}) is not set now.`,
        }, {
          es: `Defínela antes de calificar (export ${secret.env}=...), o las comprobaciones SSH fallarán.`,
          en: `Set it before grading (export ${secret.env}=...), or SSH checks will fail.`,
        });
      }
      return;
    }
    if (typeof secret.file === "string" && Object.keys(secret).length === 1 && secret.file !== "") {
      await requireFile([...path, "file"], secret.file, { es: "el fichero del secreto", en: "Secret file" }, {
        es: "crea el fichero con el secreto en una sola línea",
        en: "create the file with the secret on one line",
      });
    }
  };

  const blocks = sshBlocks(raw);
  for (const { path, block } of blocks) {
    if (typeof block.privateKey === "string" && block.privateKey !== "") await checkPrivateKey([...path, "privateKey"], block.privateKey);
    for (const field of ["passphrase", "password"]) {
      if (block[field] !== undefined && block[field] !== null) await checkSecret([...path, field], block[field]);
    }
    if (typeof block.knownHosts === "string" && block.knownHosts !== "") {
      const file = resolveSpecPath(block.knownHosts, context);
      const found = await statOrError(file);
      if (!(found instanceof Error) && found.isDirectory()) {
        fail([...path, "knownHosts"], { es: `${file} es una carpeta, no un fichero known_hosts.`, en: `${file} is a folder, not a known_hosts file.` },
          { es: "Escribe la ruta del fichero, p. ej. ~/.ssh/known_hosts.", en: "Write the file's path, e.g. ~/.ssh/known_hosts." });
      } else if (found instanceof Error) {
        // A missing known_hosts is fine (trust on first use creates it); its folder must exist.
        const folder = context.pathApi.dirname(file);
        const folderStats = await statOrError(folder);
        if (folderStats instanceof Error || !folderStats.isDirectory()) {
          fail([...path, "knownHosts"], {
            es: `La carpeta ${folder} de known_hosts no existe.`,
            en: `The known_hosts folder ${folder} does not exist.`,
          }, { es: `Créala (mkdir -p ${folder}) o corrige la ruta.`, en: `Create it (mkdir -p ${folder}) or correct the path.` });
        }
      }
    }
    if (typeof block.agent === "string" && block.agent !== "" && !isWindowsPipe(block.agent) && !/^(yes|no|on|off|true|false|y|n)$/i.test(block.agent)) {
      const socket = resolveSpecPath(block.agent, context);
      if (await statOrError(socket) instanceof Error) {
        fail([...path, "agent"], { es: `No existe el socket del agente SSH ${socket}.`, en: `SSH agent socket ${socket} does not exist.` },
          { es: "Arranca el agente (eval $(ssh-agent)) y escribe agent: true, o corrige la ruta.", en: "Start the agent (eval $(ssh-agent)) and write agent: true, or correct the path." });
      }
    }
    if (path.length === 1 && typeof block.config === "string" && block.config !== "") {
      const file = resolveSpecPath(block.config, context);
      const found = await statOrError(file);
      if (found instanceof Error || !found.isFile()) {
        fail([...path, "config"], {
          es: `No se puede leer la configuración de OpenSSH ${file}${found instanceof Error ? "" : " (no es un fichero)"}.`,
          en: `Cannot read the OpenSSH configuration ${file}${found instanceof Error ? "" : " (not a file)"}.`,
        }, {
          es: "Corrige la ruta (p. ej. ~/.ssh/config), o quita ssh.config para leer ~/.ssh/config si existe.",
          en: "Correct the path (e.g. ~/.ssh/config), or remove ssh.config to read ~/.ssh/config when it exists.",
        });
      }
    }
    if (block.agent === true && (env.SSH_AUTH_SOCK === undefined || env.SSH_AUTH_SOCK === "") && posix) {
      warn([...path, "agent"], {
        es: "agent: true pero SSH_AUTH_SOCK no está definida: no hay agente al que pedir claves.",
        en: "agent: true but SSH_AUTH_SOCK is not set: there is no agent to ask for keys.",
      }, { es: "Arranca el agente (eval $(ssh-agent); ssh-add) antes de calificar.", en: "Start the agent (eval $(ssh-agent); ssh-add) before grading." });
    }
  }

  if (isRecord(raw)) {
    // On the balancer itself (balancer.local) the web servers are still reached over SSH.
    const balancerSsh = isRecord(raw.balancer) && ((raw.balancer.ssh !== undefined && raw.balancer.ssh !== null) || raw.balancer.local === true);
    if (!balancerSsh) {
      for (const { path } of blocks) {
        if (path[0] === "backends") {
          warn(path, {
            es: `${formatFieldPath(path)} no se usa sin balancer.ssh: sin SSH al balanceador no se conecta a nadie.`,
            en: `${formatFieldPath(path)} is unused without balancer.ssh: with no SSH to the balancer, no machine is reached.`,
          }, { es: "Añade balancer.ssh (p. ej. ssh: { host: 192.168.0.10 }).", en: "Add balancer.ssh (e.g. ssh: { host: 192.168.0.10 })." });
        }
      }
    } else {
      const hasAuth = (block: Record<string, unknown> | undefined): boolean => block !== undefined
        && ((typeof block.privateKey === "string" && block.privateKey !== "") || (block.password !== undefined && block.password !== null)
          || block.agent === true || (typeof block.agent === "string" && block.agent !== ""));
      const top = blocks.find((entry) => entry.path.length === 1)?.block;
      const balancerBlock = blocks.find((entry) => entry.path[0] === "balancer")?.block;
      // Without a key, password or agent in the spec, ssh_config, the agent or a usual key may still do.
      const usual = ["id_ed25519", "id_ecdsa", "id_rsa", "config"].map((name) => context.pathApi.join(context.homeDir, ".ssh", name));
      const fallback = (env.SSH_AUTH_SOCK !== undefined && env.SSH_AUTH_SOCK !== "") || (top !== undefined && typeof top.config === "string")
        || (await Promise.all(usual.map(async (file) => !(await statOrError(file) instanceof Error)))).some(Boolean);
      if (!hasAuth(top) && !hasAuth(balancerBlock) && !fallback) {
        warn(["ssh"], {
          es: "No hay clave privada, contraseña ni agente SSH, ni ~/.ssh/id_ed25519, id_ecdsa o id_rsa: el inicio de sesión SSH fallará.",
          en: "No private key, password or SSH agent is given, nor is there ~/.ssh/id_ed25519, id_ecdsa or id_rsa: SSH logins will fail.",
        }, { es: "Añade ssh.privateKey: ~/.ssh/id_ed25519 (o password: { env: ... }, o agent: true).", en: "Add ssh.privateKey: ~/.ssh/id_ed25519 (or password: { env: ... }, or agent: true)." });
      }
    }
  }
  return { problems, warnings };
}
