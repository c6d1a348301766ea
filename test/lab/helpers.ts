/**
 * Small real-network helpers for the reference lab's tests: HTTP to the VIP over one keep-alive
 * connection, a TCP listener on the grader's address, the real OpenSSH client, ssh2.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { Client } from "ssh2";

export interface VipResponse {
  status: number;
  /** The webserver number the page names ("1", "2"), or undefined. */
  backend: string | undefined;
  setCookie: string[];
  reusedSocket: boolean;
}

/** `count` GETs to http://vip/ one after another on one keep-alive connection. */
export async function getMany(
  vip: string,
  count: number,
  options: { cookie?: string; localAddress?: string } = {},
): Promise<VipResponse[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const responses: VipResponse[] = [];
  try {
    for (let k = 0; k < count; k++) responses.push(await getOnce(vip, agent, options));
  } finally {
    agent.destroy();
  }
  return responses;
}

function getOnce(
  vip: string,
  agent: Agent,
  options: { cookie?: string; localAddress?: string },
): Promise<VipResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: vip,
        port: 80,
        path: "/",
        agent,
        localAddress: options.localAddress,
        headers: options.cookie ? { cookie: options.cookie } : {},
        timeout: 5000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (d: string) => (body += d));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            backend: /Bienvenido a webserver(\d+)/i.exec(body)?.[1],
            setCookie: res.headers["set-cookie"] ?? [],
            reusedSocket: req.reusedSocket,
          }),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer from http://${vip}/ within 5 s`)));
    req.on("error", reject);
    req.end();
  });
}

export function countBackends(responses: VipResponse[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of responses) {
    const key = r.backend ?? `status-${r.status}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** A TCP listener on a grader address that records where connections come from. */
export interface ConnectionRecorder {
  port: number;
  sources: string[];
  close(): Promise<void>;
}

export async function recordConnections(address: string): Promise<ConnectionRecorder> {
  const sources: string[] = [];
  const server: Server = createServer((socket) => {
    sources.push(socket.remoteAddress ?? "?");
    socket.end("seen\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, address, () => resolve());
  });
  const bound = server.address();
  if (bound === null || typeof bound === "string") throw new Error("listener has no port");
  return {
    port: bound.port,
    sources,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A lab host's bash line that opens a TCP connection with bash's /dev/tcp, bounded in time. */
export function connectCommand(address: string, port: number, seconds = 3): string {
  return `timeout ${seconds} bash -c 'exec 3<>/dev/tcp/${address}/${port}; cat <&3'`;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(file: string, args: string[], timeoutMs = 30_000): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, killSignal: "SIGKILL" }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The real OpenSSH client with the lab's key and known_hosts only (no ~/.ssh, no agent). */
export function labSsh(stateDir: string, target: string, command: string, jump?: string): Promise<CommandResult> {
  const common = [
    "-F", "/dev/null",
    "-i", join(stateDir, "id_ed25519"),
    "-o", "IdentitiesOnly=yes",
    "-o", "IdentityAgent=none",
    "-o", `UserKnownHostsFile=${join(stateDir, "known_hosts")}`,
    "-o", "StrictHostKeyChecking=yes",
    "-o", "BatchMode=yes",
    "-o", "ConnectTimeout=5",
  ];
  const args = [...common];
  if (jump) args.push("-o", `ProxyCommand=ssh ${common.join(" ")} -W %h:%p ${jump}`);
  args.push(target, command);
  return run("ssh", args);
}

export async function until(test: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await test()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Runs a command on a web server the way hagrade reaches it with ssh2 (which has no ProxyJump):
 * a connection to the balancer, `forwardOut` to the web server's port 22, a second connection
 * over that stream. Host keys are checked against the lab's known_hosts.
 */
export async function ssh2ThroughBalancer(
  stateDir: string,
  balancer: string,
  webserver: string,
  command: string,
): Promise<{ code: number; stdout: string }> {
  const privateKey = readFileSync(join(stateDir, "id_ed25519"));
  const knownKeys = new Map(
    readFileSync(join(stateDir, "known_hosts"), "utf8")
      .trim()
      .split("\n")
      .map((line) => line.split(" "))
      .map(([host = "", , key = ""]) => [host, key] as const),
  );
  const verifierFor = (host: string) => (key: Buffer) => key.toString("base64") === knownKeys.get(host);
  const jump = new Client();
  const target = new Client();
  try {
    await new Promise<void>((resolve, reject) => {
      jump.once("ready", () => resolve()).once("error", reject);
      jump.connect({ host: balancer, username: "root", privateKey, hostVerifier: verifierFor(balancer), readyTimeout: 5000 });
    });
    const stream = await new Promise<Duplex>((resolve, reject) =>
      jump.forwardOut("127.0.0.1", 0, webserver, 22, (error, channel) => (error ? reject(error) : resolve(channel))),
    );
    await new Promise<void>((resolve, reject) => {
      target.once("ready", () => resolve()).once("error", reject);
      target.connect({ sock: stream, username: "root", privateKey, hostVerifier: verifierFor(webserver), readyTimeout: 5000 });
    });
    return await new Promise((resolve, reject) =>
      target.exec(command, (error, channel) => {
        if (error) return reject(error);
        let stdout = "";
        channel.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
        channel.stderr.resume();
        channel.on("close", (code: number | null) => resolve({ code: code ?? -1, stdout }));
      }),
    );
  } finally {
    target.end();
    jump.end();
  }
}
