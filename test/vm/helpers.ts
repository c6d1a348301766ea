/**
 * What the LVS lab's tests do from the grader's side: new TCP connections to the VIP from a
 * chosen local address, and SSH to the director and, through it, to the web servers (ssh2, as
 * hagrade does: no ProxyJump, a forwarded channel used as the second connection's socket).
 */
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { Client, type ClientChannel, type ConnectConfig } from "ssh2";
import type { BackendName, VmLab } from "../../fixtures/vm/index.js";

export interface PageResult {
  /** The web server whose page came back, or null (refused, timeout, other page). */
  backend: BackendName | null;
  status: number | null;
  error?: string;
}

/** One GET on a new connection (no keep-alive: IPVS schedules connections, not requests). */
export function getPage(address: string, localAddress?: string, timeoutMs = 5000): Promise<PageResult> {
  return new Promise((resolve) => {
    const req = request(
      { host: address, port: 80, path: "/", agent: false, localAddress, timeout: timeoutMs, headers: { connection: "close" } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => {
          const match = /Bienvenido a (webserver[12])/.exec(body);
          resolve({ backend: (match?.[1] as BackendName | undefined) ?? null, status: res.statusCode ?? null });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (error: NodeJS.ErrnoException) =>
      resolve({ backend: null, status: null, error: error.code ?? error.message }),
    );
    req.end();
  });
}

/** `count` requests one after another, each on a new connection. */
export async function samplePages(lab: VmLab, count: number, localAddress?: string): Promise<PageResult[]> {
  const results: PageResult[] = [];
  for (let k = 0; k < count; k++) results.push(await getPage(lab.addresses.vip, localAddress));
  return results;
}

export function countBackends(results: PageResult[]): Record<BackendName, number> {
  const counts: Record<BackendName, number> = { webserver1: 0, webserver2: 0 };
  for (const result of results) if (result.backend !== null) counts[result.backend]++;
  return counts;
}

/** Polls `probe` until `done` holds or the deadline passes; returns the last value. */
export async function waitUntil<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    value = await probe();
  }
  return value;
}

export interface SshResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A host key check against the lab's known_hosts file, as strict as OpenSSH's. */
function knownHostVerifier(knownHostsPath: string, host: string): (key: Buffer) => boolean {
  const entries = readFileSync(knownHostsPath, "utf8")
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[0] === host && fields[2] !== undefined);
  return (key) => entries.some((fields) => Buffer.from(fields[2] ?? "", "base64").equals(key));
}

export class LabSsh {
  private constructor(private readonly client: Client) {}

  static connect(lab: VmLab, host: string, sock?: ClientChannel): Promise<LabSsh> {
    const config: ConnectConfig = {
      host,
      port: 22,
      username: lab.spec.ssh.user,
      privateKey: readFileSync(lab.spec.ssh.privateKey),
      hostVerifier: knownHostVerifier(lab.spec.ssh.knownHosts, host),
      readyTimeout: 20_000,
      ...(sock === undefined ? {} : { sock }),
    };
    return new Promise((resolve, reject) => {
      const client = new Client();
      client.once("ready", () => resolve(new LabSsh(client)));
      client.once("error", reject);
      client.connect(config);
    });
  }

  /** Reaches a web server through this connection as jump host. */
  jumpTo(lab: VmLab, host: string): Promise<LabSsh> {
    return new Promise((resolve, reject) => {
      this.client.forwardOut("127.0.0.1", 0, host, 22, (error, channel) => {
        if (error) return reject(error);
        LabSsh.connect(lab, host, channel).then(resolve, reject);
      });
    });
  }

  exec(command: string): Promise<SshResult> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, (error, stream) => {
        if (error) return reject(error);
        let stdout = "";
        let stderr = "";
        stream.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
        stream.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
        stream.on("close", (code: number | null) => resolve({ code, stdout, stderr }));
      });
    });
  }

  close(): void {
    this.client.end();
  }
}

/** What the host shows of a lab with this index: all of it must be gone after stop(). */
export function hostTraces(index: number, shell: (cmd: string) => string): string[] {
  const traces: string[] = [];
  const netns = shell("ip netns list");
  if (new RegExp(`^hgvm${index}-`, "m").test(netns)) traces.push(`namespace: ${netns.trim()}`);
  const links = shell("ip -o link show");
  for (const line of links.split("\n")) if (line.includes(`hgvm${index}-`)) traces.push(`link: ${line}`);
  const qemu = shell(`pgrep -af 'qemu-system-x86_64 -name hgvm${index}-director( |$)' || true`);
  if (qemu.trim() !== "") traces.push(`qemu: ${qemu.trim()}`);
  const mounts = readFileSync("/proc/self/mountinfo", "utf8");
  const ours = new RegExp(`hgvm${index}(?![0-9])`);
  for (const line of mounts.split("\n")) if (ours.test(line)) traces.push(`mount: ${line}`);
  const routes = shell("ip -4 route show");
  for (const line of routes.split("\n")) if (line.startsWith(`10.231.${index}.`) || line.startsWith(`10.230.${index}.`)) {
    traces.push(`route: ${line}`);
  }
  return traces;
}
