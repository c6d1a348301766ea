/**
 * What can go wrong talking SSH to a lab machine, as typed values with a message and a fix in both
 * languages. Nothing here ever holds a password, a passphrase or key material: callers hand in
 * only names, addresses, fingerprints and the SSH library's (secret-free) reason texts.
 */
import { ev, type Outcome, type SshFailure, type Text, type Verdict } from "../model/index.js";

export type SshErrorKind =
  | "auth"
  | "refused"
  | "timeout"
  | "unreachable"
  | "host-key-unknown"
  | "host-key-changed"
  | "key-unreadable"
  | "sudo-password"
  | "exec-timeout"
  | "disconnected"
  | "jump-failed";

/** Which machine an error is about: the target's name in the lab and where it was reached. */
export interface SshHostRef {
  /** "balancer", "webserver1", ... */
  name: string;
  /** user@host:port, plus " via <jump>" when reached through a jump host. */
  address: string;
}

export interface SshErrorDetails {
  /** The library's or the server's reason, already free of secrets. */
  reason?: string;
  /** SHA256 fingerprint of the key the server presented. */
  fingerprint?: string;
  /** The fingerprint that was expected (pinned or in known_hosts), for a changed key. */
  expectedFingerprint?: string;
  knownHostsPath?: string;
  /** Line of known_hosts that holds the old key. */
  knownHostsLine?: number;
  timeoutMs?: number;
  command?: string;
  privateKeyPath?: string;
  jumpHost?: string;
  /** The error of the jump host (or of its forwarding) that made this one fail. */
  cause?: SshError;
  /** What a timed out or interrupted command had printed so far. */
  partial?: { stdout: string; stderr: string; durationMs: number };
}

function describe(kind: SshErrorKind, host: SshHostRef, d: SshErrorDetails): { text: Text; fix: Text } {
  const who = `${host.name} (${host.address})`;
  const reason = d.reason ? ` (${d.reason})` : "";
  const seconds = d.timeoutMs !== undefined ? `${Math.round(d.timeoutMs / 100) / 10} s` : "";
  switch (kind) {
    case "auth":
      // ssh2 reports an agent it cannot reach as an authentication failure; the server never saw a key.
      if (d.reason && /agent/i.test(d.reason)) {
        return {
          text: {
            es: `No se pudo usar el agente SSH para entrar en ${who}${reason}.`,
            en: `Could not use the SSH agent to log in to ${who}${reason}.`,
          },
          fix: {
            es: "Arranca ssh-agent y añade la clave (ssh-add), y haz que ssh.agent (o SSH_AUTH_SOCK con agent: true) apunte a su socket; o usa ssh.privateKey.",
            en: "Start ssh-agent and add the key (ssh-add), and point ssh.agent (or SSH_AUTH_SOCK with agent: true) at its socket; or use ssh.privateKey.",
          },
        };
      }
      return {
        text: {
          es: `El servidor SSH de ${who} rechazó la autenticación${reason}.`,
          en: `The SSH server of ${who} rejected the authentication${reason}.`,
        },
        fix: {
          es: "Revisa ssh.user y ssh.privateKey (o agent/password) en el fichero del laboratorio, y que la clave pública está en ~/.ssh/authorized_keys de ese usuario en la máquina.",
          en: "Check ssh.user and ssh.privateKey (or agent/password) in the lab spec, and that the public key is in that user's ~/.ssh/authorized_keys on the machine.",
        },
      };
    case "refused":
      return {
        text: {
          es: `${who} rechazó la conexión TCP al puerto SSH: no hay un servidor SSH escuchando${reason}.`,
          en: `${who} refused the TCP connection to the SSH port: no SSH server is listening${reason}.`,
        },
        fix: {
          es: "Arranca el servidor SSH en la máquina (service ssh start) o corrige ssh.host/ssh.port en el fichero del laboratorio.",
          en: "Start the SSH server on the machine (service ssh start) or correct ssh.host/ssh.port in the lab spec.",
        },
      };
    case "timeout":
      return {
        text: {
          es: `${who} no completó el saludo SSH en ${seconds}${reason}.`,
          en: `${who} did not complete the SSH handshake within ${seconds}${reason}.`,
        },
        fix: {
          es: "Comprueba que la máquina está encendida, que la dirección y el puerto son los del servidor SSH y que ningún cortafuegos descarta los paquetes; si la red es lenta, sube timeouts.ssh.",
          en: "Check that the machine is up, that address and port are the SSH server's and that no firewall drops the packets; on a slow network raise timeouts.ssh.",
        },
      };
    case "unreachable":
      return {
        text: {
          es: `No hay ruta hasta ${who}${reason}.`,
          en: `There is no route to ${who}${reason}.`,
        },
        fix: {
          es: "Comprueba la dirección en el fichero del laboratorio y que el equipo que corrige está en la red de servicio.",
          en: "Check the address in the lab spec and that the grading machine is on the service network.",
        },
      };
    case "host-key-unknown":
      return {
        text: {
          es: `La clave de host de ${who} no es conocida: su huella es ${d.fingerprint ?? "?"}.`,
          en: `The host key of ${who} is not known: its fingerprint is ${d.fingerprint ?? "?"}.`,
        },
        fix: {
          es: `Compara la huella en la máquina (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) y fíjala en ssh.hostKeys, o acepta claves nuevas (se guardarán en ${d.knownHostsPath ?? "known_hosts"}).`,
          en: `Compare the fingerprint on the machine (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and pin it in ssh.hostKeys, or accept new host keys (they are saved to ${d.knownHostsPath ?? "known_hosts"}).`,
        },
      };
    case "host-key-changed": {
      const where = d.knownHostsPath
        ? `${d.knownHostsPath}${d.knownHostsLine !== undefined ? `:${d.knownHostsLine}` : ""}`
        : "ssh.hostKeys";
      const expected = d.expectedFingerprint ? `; se esperaba ${d.expectedFingerprint}` : "";
      const expectedEn = d.expectedFingerprint ? `; expected ${d.expectedFingerprint}` : "";
      return {
        text: {
          es: `¡La clave de host de ${who} ha CAMBIADO! Presenta ${d.fingerprint ?? "?"}${expected} (${where})${reason}. Puede ser una máquina reinstalada o un ataque.`,
          en: `The host key of ${who} has CHANGED! It presents ${d.fingerprint ?? "?"}${expectedEn} (${where})${reason}. It may be a reinstalled machine or an attack.`,
        },
        fix: {
          es: `Si la máquina se reinstaló, borra la clave antigua (${where}) y vuelve a conectar; nunca se acepta sola.`,
          en: `If the machine was reinstalled, remove the old key (${where}) and connect again; it is never accepted automatically.`,
        },
      };
    }
    case "key-unreadable":
      return {
        text: {
          es: `No se puede usar la clave privada ${d.privateKeyPath ?? ""} para ${who}${reason}.`,
          en: `The private key ${d.privateKeyPath ?? ""} for ${who} cannot be used${reason}.`,
        },
        fix: {
          es: "Comprueba ssh.privateKey (ruta y permisos de lectura) y, si la clave está cifrada, ssh.passphrase.",
          en: "Check ssh.privateKey (path and read permission) and, if the key is encrypted, ssh.passphrase.",
        },
      };
    case "sudo-password":
      return {
        text: {
          es: `En ${who} el usuario no es root y sudo no puede usarse sin contraseña${reason}.`,
          en: `On ${who} the user is not root and sudo cannot be used without a password${reason}.`,
        },
        fix: {
          es: "Usa ssh.user: root, o añade en la máquina una regla sudoers NOPASSWD para ese usuario (visudo), o pon ssh.sudo: never si no hace falta.",
          en: "Use ssh.user: root, or add a NOPASSWD sudoers rule for that user on the machine (visudo), or set ssh.sudo: never if it is not needed.",
        },
      };
    case "exec-timeout":
      return {
        text: {
          es: `La orden en ${who} no terminó en ${seconds} y se ha detenido: ${d.command ?? ""}`,
          en: `The command on ${who} did not finish within ${seconds} and was stopped: ${d.command ?? ""}`,
        },
        fix: {
          es: "Comprueba a mano en la máquina por qué la orden se queda esperando; si la máquina es lenta, sube timeouts.ssh.",
          en: "Check by hand on the machine why the command hangs; on a slow machine raise timeouts.ssh.",
        },
      };
    case "disconnected":
      return {
        text: {
          es: `La conexión SSH con ${who} se cortó${reason}.`,
          en: `The SSH connection to ${who} was lost${reason}.`,
        },
        fix: {
          es: "Comprueba que la máquina sigue encendida y conectada, y vuelve a ejecutar.",
          en: "Check that the machine is still up and connected, and run again.",
        },
      };
    case "jump-failed": {
      const via = d.jumpHost ?? "balancer";
      const cause = d.cause ? ` ${d.cause.text.es}` : reason;
      const causeEn = d.cause ? ` ${d.cause.text.en}` : reason;
      return {
        text: {
          es: `No se pudo llegar a ${who} a través de ${via}:${cause}`,
          en: `Could not reach ${who} through ${via}:${causeEn}`,
        },
        fix: d.cause?.fix ?? {
          es: `Comprueba desde ${via} que el servidor web está encendido y escucha en el puerto SSH, y que sshd de ${via} permite reenvío TCP (AllowTcpForwarding).`,
          en: `Check from ${via} that the web server is up and listens on the SSH port, and that ${via}'s sshd allows TCP forwarding (AllowTcpForwarding).`,
        },
      };
    }
  }
}

/**
 * A failure to reach a machine or to run a command on it. `message` is the English text (for
 * logs and stack traces); `text` and `fix` carry both languages for students and teachers.
 */
export class SshError extends Error {
  override readonly name = "SshError";
  readonly kind: SshErrorKind;
  readonly host: SshHostRef;
  readonly text: Text;
  readonly fix: Text;
  readonly fingerprint?: string;
  readonly details: SshErrorDetails;

  constructor(kind: SshErrorKind, host: SshHostRef, details: SshErrorDetails = {}) {
    const { text, fix } = describe(kind, host, details);
    super(text.en);
    this.kind = kind;
    this.host = host;
    this.text = text;
    this.fix = fix;
    if (details.fingerprint !== undefined) this.fingerprint = details.fingerprint;
    this.details = details;
  }

  /** Plain JSON for evidence and journals (no stack, no secrets). */
  toJSON(): SshFailure {
    return {
      kind: this.kind,
      host: this.host,
      message: this.message,
      text: this.text,
      fix: this.fix,
      ...(this.fingerprint ? { fingerprint: this.fingerprint } : {}),
      ...(this.details.expectedFingerprint ? { expectedFingerprint: this.details.expectedFingerprint } : {}),
      ...(this.details.command ? { command: this.details.command } : {}),
      ...(this.details.cause ? { cause: this.details.cause.toJSON() } : {}),
    };
  }
}

export function isSshError(value: unknown): value is SshError {
  return value instanceof SshError;
}

/** Whose problem an SSH failure is. */
export type SshBlame = "grader" | "lab";

const graderKinds: ReadonlySet<SshErrorKind> = new Set([
  "auth",
  "host-key-unknown",
  "host-key-changed",
  "key-unreadable",
  "sudo-password",
]);

/**
 * "grader": the grading setup is wrong or incomplete (credentials, host keys, sudo rights): the
 * teacher fixes the spec, the lab is not at fault. "lab": the lab machine or its network did not
 * answer (down, no sshd, hung command): the state of the lab, which the step being graded may or
 * may not be about. A jump failure takes the blame of what failed on the jump host.
 */
export function sshErrorBlame(error: SshError): SshBlame {
  if (error.kind === "jump-failed" && error.details.cause) return sshErrorBlame(error.details.cause);
  return graderKinds.has(error.kind) ? "grader" : "lab";
}

/**
 * The outcome a check reports when SSH failed under it: the grader's own setup → "error"; a lab
 * machine that could not be reached or answered → "inconclusive" (what the check looks at was
 * never observed, so it neither passes nor fails).
 */
export function sshErrorOutcome(error: SshError): Extract<Outcome, "error" | "inconclusive"> {
  return sshErrorBlame(error) === "grader" ? "error" : "inconclusive";
}

/** A whole verdict for a check whose SSH step failed. */
export function sshErrorVerdict(error: SshError): Verdict {
  return {
    outcome: sshErrorOutcome(error),
    message: error.text,
    fix: error.fix,
    evidence: [ev.sshError({ error: error.toJSON() })],
  };
}
