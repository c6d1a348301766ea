/**
 * What kind of machine a lab host is, read with one command: its distribution family
 * (/etc/os-release), the Apache and service commands it really has, whether systemd runs it and
 * whether firewalld is running. The lab text lets students build on Debian or CentOS (most on
 * CentOS minimal VMs), and a check's command and its fix must use that machine's names:
 * CentOS has no apache2ctl nor a2enmod, and its Apache service is `httpd`.
 */
import { splitLines } from "./common.js";
import { parseOsRelease, type OsRelease } from "./os-release.js";

export type OsFamily = OsRelease["family"];

export interface MachineFacts {
  os: OsRelease;
  /** The os-release family, or when it says nothing known, the one the commands point to. */
  family: OsFamily;
  /** Which of MACHINE_COMMANDS exist on the machine's PATH (sbin folders included). */
  commands: ReadonlySet<string>;
  /** systemd is the init system (containers and SysV machines answer `service` only). */
  systemd: boolean;
  firewalldRunning: boolean;
}

export const MACHINE_COMMANDS = [
  "apache2ctl",
  "apachectl",
  "httpd",
  "apache2",
  "a2enmod",
  "systemctl",
  "service",
  "firewall-cmd",
] as const;

const COMMANDS_MARK = "@@hagrade-commands@@";
const INIT_MARK = "@@hagrade-init@@";

/** POSIX sh, read-only, no sudo needed. */
export const MACHINE_FACTS_COMMAND = [
  "cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null",
  `echo ${COMMANDS_MARK}`,
  `for c in ${MACHINE_COMMANDS.join(" ")}; do command -v "$c" >/dev/null 2>&1 && echo "$c"; done`,
  `echo ${INIT_MARK}`,
  "[ -d /run/systemd/system ] && echo systemd",
  "ps -eo comm= 2>/dev/null | grep -qx firewalld && echo firewalld",
  "true",
].join("; ");

export function parseMachineFacts(stdout: string): MachineFacts {
  const text = typeof stdout === "string" ? stdout : "";
  const commandsAt = text.indexOf(COMMANDS_MARK);
  const initAt = text.indexOf(INIT_MARK);
  const osText = commandsAt >= 0 ? text.slice(0, commandsAt) : text;
  const words = (from: number, to: number) =>
    from < 0 ? [] : splitLines(text.slice(from, to < 0 ? undefined : to)).map((line) => line.trim()).filter((line) => line !== "");
  const commands = new Set(words(commandsAt >= 0 ? commandsAt + COMMANDS_MARK.length : -1, initAt).filter((w) => (MACHINE_COMMANDS as readonly string[]).includes(w)));
  const init = new Set(words(initAt >= 0 ? initAt + INIT_MARK.length : -1, -1));
  const os = parseOsRelease(osText);
  return { os, family: familyOf(os, commands), commands, systemd: init.has("systemd"), firewalldRunning: init.has("firewalld") };
}

function familyOf(os: OsRelease, commands: ReadonlySet<string>): OsFamily {
  if (os.family !== "other") return os.family;
  // No os-release (old or unusual systems): Debian's packaging tools are telling.
  if (commands.has("a2enmod") || commands.has("apache2ctl")) return "debian";
  if (commands.has("httpd")) return "rhel";
  return "other";
}

/**
 * Runs MACHINE_FACTS_COMMAND with `run` (an SSH exec) and parses it. Checks share the answer
 * per host through the run's memo.
 */
export async function readMachine(run: (command: string) => Promise<{ stdout: string }>): Promise<MachineFacts> {
  return parseMachineFacts((await run(MACHINE_FACTS_COMMAND)).stdout);
}

/** How to act on a service on this machine: systemd's systemctl, else SysV `service`. */
export function serviceCommand(machine: MachineFacts, service: string, action: "start" | "stop" | "restart" | "reload"): string {
  return machine.systemd || (!machine.commands.has("service") && machine.commands.has("systemctl"))
    ? `systemctl ${action} ${service}`
    : `service ${service} ${action}`;
}
