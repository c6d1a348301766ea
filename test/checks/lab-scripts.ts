/**
 * What a correct lab's machines answer to the commands hagrade sends, for the scripted SSH server
 * (test/helpers/fake-sshd.ts), and the same answers spoilt in each way a command can fail: not
 * found (127), no output, permission denied, sudo refused, a hang, output cut short, garbage.
 * The correct answers follow the lab text's final steps: Part 1 wrr 3:1, persistence 1200,
 * HTTP_GET with each page's digest, NAT; Part 2 Apache byrequests with its modules and keepalived
 * stopped. A check that passes with them and not with a spoilt one rests on what it read.
 */
import { createHash } from "node:crypto";
import type { FakeAnswer, FakeScript, ReceivedCommand } from "../helpers/fake-sshd.js";

export const SSH_FAULTS = ["exit 127", "empty output", "permission denied", "sudo refused", "timeout", "truncated output", "garbage output"] as const;
export type SshFault = (typeof SSH_FAULTS)[number];

export interface LabShape {
  part: "lvs" | "proxy";
  vip: { address: string; port: number };
  internalAddress: string;
  backends: { name: string; address: string; port: number; weight: number }[];
  persistenceTimeout: number;
  /** The grader's client addresses (for persistence templates). */
  clients: string[];
}

/** The page each web server serves (the lab's index.html). */
export function page(name: string): string {
  const n = /(\d+)$/.exec(name)?.[1] ?? "1";
  return `<html><body><h1>Bienvenido a webserver${n}</h1></body></html>\n`;
}

const md5 = (text: string) => createHash("md5").update(text).digest("hex");

/** A command whose output hagrade only trusts up to an end line: `{ cmd\n}; printf '\n@@hagrade-end %s\n' "$?"`. */
const END_MARKED = /^\{ ([\s\S]*)\n\}; printf '\\n@@hagrade-end %s\\n' "\$\?"$/;

function endLine(status: number): string {
  return `\n@@hagrade-end ${status}\n`;
}

const OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n';

function processList(withKeepalived: boolean): string {
  return [
    "    PID COMMAND         COMMAND",
    "      1 init            /sbin/init",
    "    312 sshd            sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups",
    "    420 apache2         /usr/sbin/apache2 -k start",
    ...(withKeepalived ? ["    501 keepalived      /usr/sbin/keepalived --dont-fork", "    502 keepalived      /usr/sbin/keepalived --dont-fork"] : []),
    "   9001 ps              ps -eo pid,comm,args",
    "",
  ].join("\n");
}

function ipvsTable(lab: LabShape): string {
  const persistent = lab.persistenceTimeout > 0 ? ` persistent ${lab.persistenceTimeout}` : "";
  return [
    "IP Virtual Server version 1.2.1 (size=4096)",
    "Prot LocalAddress:Port Scheduler Flags",
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
    `TCP  ${lab.vip.address}:${lab.vip.port} wrr${persistent}`,
    ...lab.backends.map((b) => `  -> ${`${b.address}:${b.port}`.padEnd(28)}Masq    ${String(b.weight).padEnd(7)}0          0         `),
    "",
  ].join("\n");
}

function ipvsConnections(lab: LabShape): string {
  const [first] = lab.backends;
  return [
    "IPVS connection entries",
    "pro expire state       source             virtual            destination",
    ...lab.clients.map((c) => `TCP 19:56  ASSURED     ${c}:0`.padEnd(43) + `${lab.vip.address}:${lab.vip.port}`.padEnd(19) + `${first?.address}:${first?.port}`),
    "",
  ].join("\n");
}

function keepalivedConf(lab: LabShape): string {
  const servers = lab.backends
    .map(
      (b) => `    real_server ${b.address} ${b.port} {
        weight ${b.weight}
        HTTP_GET {
            url {
                path /
                digest ${md5(page(b.name))}
            }
            connect_timeout 3
        }
    }`,
    )
    .join("\n");
  return `global_defs {
    lvs_id LVS_PRACTICA
}

virtual_server ${lab.vip.address} ${lab.vip.port} {
    delay_loop 3
    lb_algo wrr
    lb_kind NAT
    persistence_timeout ${lab.persistenceTimeout}
    protocol TCP

${servers}
}
`;
}

const MODULES = [
  "ip_vs_wrr 16384 1 - Live 0x0000000000000000",
  "ip_vs_rr 16384 0 - Live 0x0000000000000000",
  "ip_vs 184320 5 ip_vs_wrr,ip_vs_rr, Live 0x0000000000000000",
  "nf_conntrack 176128 3 ip_vs,nf_nat,nf_conntrack_netlink, Live 0x0000000000000000",
  "",
].join("\n");

const APACHE_MODULES = [
  "Loaded Modules:",
  " core_module (static)",
  " so_module (static)",
  " mpm_event_module (shared)",
  " access_compat_module (shared)",
  " headers_module (shared)",
  " proxy_module (shared)",
  " proxy_http_module (shared)",
  " proxy_balancer_module (shared)",
  " lbmethod_byrequests_module (shared)",
  " slotmem_shm_module (shared)",
  "",
].join("\n");

function rawResponse(name: string): string {
  const body = page(name);
  return `HTTP/1.1 200 OK\r\nServer: Apache\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n${body}`;
}

/** The host a command ran on, from the server that received it. */
export type HostOf = (received: ReceivedCommand) => string;

/**
 * A correct lab's answer to one command (without end line), or undefined when the script does not
 * know the command (the fake then says "not found").
 */
export function goodAnswer(lab: LabShape, host: string, command: string): FakeAnswer | undefined {
  const backend = lab.backends.find((b) => b.name === host);
  const byAddress = (address: string) => lab.backends.find((b) => b.address === address);
  if (command.startsWith("u=$(id -u)")) return { stdout: "0\n" };
  if (command === "cat /proc/modules") return { stdout: lab.part === "lvs" ? MODULES : "" };
  if (command.startsWith("ps -eo pid,comm,args")) return { stdout: processList(lab.part === "lvs") };
  if (command.includes("ipvsadm -Lnc")) return { stdout: lab.part === "lvs" ? ipvsConnections(lab) : "" };
  if (command.includes("ipvsadm -Ln")) return { stdout: lab.part === "lvs" ? ipvsTable(lab) : "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n" };
  if (command === "cat /etc/keepalived/keepalived.conf") return lab.part === "lvs" ? { stdout: keepalivedConf(lab) } : { code: 1, stderr: "cat: /etc/keepalived/keepalived.conf: No such file or directory\n" };
  if (command === "cat /proc/sys/net/ipv4/ip_forward") return { stdout: "1\n" };
  if (command.startsWith("ip -j route show")) return { stdout: `[{"dst":"default","gateway":"${lab.internalAddress}","dev":"eth0","flags":[]}]\n` };
  if (command.startsWith("cat /etc/os-release")) {
    return { stdout: `${OS_RELEASE}@@hagrade-commands@@\napache2ctl\na2enmod\nservice\n@@hagrade-init@@\n` };
  }
  if (command === "apache2ctl -M") return { stdout: APACHE_MODULES };
  if (command.startsWith("if command -v genhash")) {
    const target = /genhash -s (\S+) -p (\d+)/.exec(command);
    const b = target ? byAddress(target[1] ?? "") : undefined;
    return b ? { stdout: `MD5SUM = ${md5(page(b.name))}\n` } : { stdout: "" };
  }
  const raw = /curl -s -i -0 -m 5 'http:\/\/([\d.]+):(\d+)\//.exec(command);
  if (raw) {
    const b = byAddress(raw[1] ?? "");
    return b ? { stdout: Buffer.from(rawResponse(b.name)).toString("base64") } : { stdout: "" };
  }
  const fetched = /curl -s -m 5 'http:\/\/([\d.]+):(\d+)\//.exec(command);
  if (fetched) {
    const b = fetched[1] === "127.0.0.1" ? backend : byAddress(fetched[1] ?? "");
    const body = b ? page(b.name) : "";
    return { stdout: command.endsWith("| md5sum") ? `${md5(body)}  -\n` : body };
  }
  if (command.startsWith("echo hagrade-posix-")) return { stdout: "hagrade-posix-42\n" };
  if (command === "echo $SSH_CONNECTION") return { stdout: `127.0.0.1 50000 127.0.0.1 22\n` };
  return undefined;
}

/** Garbage an SSH command may print: binary noise, a half line, a shell's complaint. */
function garbage(command: string): string {
  const seed = md5(command);
  return `\x00\x1b[0m${seed.slice(0, 7)}\n\ufffd\ufffd PID ??? ${seed.slice(7, 20)}\n-> :: Masq x\n1\n\x7f`;
}

/**
 * The script of a lab whose every command fails in the way `fault` says (undefined: the correct
 * lab). `hostOf` tells which machine a command reached. End-marked commands keep their end line
 * where the fault leaves the shell alive (a command not found still lets the shell say so).
 */
export function labScript(lab: LabShape, fault: SshFault | undefined, hostOf: HostOf): FakeScript {
  return (received) => {
    const host = hostOf(received);
    const marked = END_MARKED.exec(received.command);
    const command = marked ? (marked[1] ?? "") : received.command;
    const privilegeProbe = command.startsWith("u=$(id -u)");
    if (fault === "sudo refused" && privilegeProbe) return { stdout: "1000\n", stderr: "sudo: a password is required\n", code: 1 };
    if (privilegeProbe) return { stdout: "0\n" };
    const wrap = (answer: FakeAnswer): FakeAnswer => {
      if (!marked) return answer;
      const stdout = `${answer.stdout?.toString() ?? ""}${endLine(answer.code ?? 0)}`;
      return { ...answer, stdout, code: 0 };
    };
    const good = goodAnswer(lab, host, command) ?? { code: 127, stderr: `sh: 1: ${command.split(/\s+/)[0] ?? ""}: not found\n` };
    switch (fault) {
      case undefined:
      case "sudo refused":
        return wrap(good);
      case "exit 127":
        return wrap({ code: 127, stderr: `sh: 1: ${command.split(/\s+/)[0] ?? ""}: not found\n` });
      case "empty output":
        return wrap({ code: 0 });
      case "permission denied":
        return wrap({ code: 1, stderr: `${command.split(/\s+/)[0] ?? ""}: Permission denied\n` });
      case "timeout":
        return { hang: true };
      case "truncated output": {
        const whole = wrap(good).stdout?.toString() ?? "";
        return { stdout: whole.slice(0, Math.floor(whole.length * 0.4)), code: 0 };
      }
      case "garbage output":
        return wrap({ stdout: garbage(command), code: 0 });
    }
  };
}
