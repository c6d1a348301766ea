/**
 * Real peers for the probe tests: node HTTP backends that show the lab's welcome page, raw TCP
 * servers that misbehave on purpose, and a real Apache 2.4 balancer with the lab's configuration.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";

export interface SeenRequest {
  remoteAddress: string;
  remotePort: number;
  cookie: string | undefined;
  host: string | undefined;
}

export interface WebServer {
  address: string;
  port: number;
  seen: SeenRequest[];
  /** TCP connections the server accepted. */
  connections: () => number;
  close: () => Promise<void>;
}

async function listen(server: net.Server, address: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, address, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address();
  if (bound === null || typeof bound === "string") throw new Error("server has no TCP address");
  return bound.port;
}

function closer(server: net.Server, sockets: Set<net.Socket>): () => Promise<void> {
  return async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}

function tracked(server: net.Server): { sockets: Set<net.Socket>; count: () => number } {
  const sockets = new Set<net.Socket>();
  let count = 0;
  server.on("connection", (socket: net.Socket) => {
    count += 1;
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  return { sockets, count: () => count };
}

export interface WebServerOptions {
  address?: string;
  /** The server closes a keep-alive connection after this many requests (Connection: close). */
  maxRequestsPerSocket?: number;
  handler?: (req: http.IncomingMessage, res: http.ServerResponse) => void;
}

/** A lab web server: answers "Bienvenido a webserverN" like the lab's index.html. */
export async function startWebServer(identity: string, options: WebServerOptions = {}): Promise<WebServer> {
  const seen: SeenRequest[] = [];
  const served = new WeakMap<net.Socket, number>();
  const server = http.createServer(
    { keepAliveTimeout: 30_000 },
    (req, res) => {
      // Like Apache's MaxKeepAliveRequests: the last answer on a connection says "Connection: close".
      const count = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, count);
      if (options.maxRequestsPerSocket !== undefined && count >= options.maxRequestsPerSocket) {
        res.setHeader("connection", "close");
      }
      seen.push({
        remoteAddress: req.socket.remoteAddress ?? "",
        remotePort: req.socket.remotePort ?? 0,
        cookie: req.headers.cookie,
        host: req.headers.host,
      });
      if (options.handler !== undefined) {
        options.handler(req, res);
        return;
      }
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(`<html><body><h1>Bienvenido a webserver${identity}</h1></body></html>\n`);
    },
  );
  const { sockets, count } = tracked(server);
  const address = options.address ?? "127.0.0.1";
  const port = await listen(server, address);
  return { address, port, seen, connections: count, close: closer(server, sockets) };
}

export interface RawServer {
  address: string;
  port: number;
  connections: () => number;
  /** Sockets the server still holds open. */
  openSockets: () => number;
  close: () => Promise<void>;
}

/** A TCP server with a hand-written behaviour per connection (hangs, endless bodies...). */
export async function startRawServer(onSocket: (socket: net.Socket) => void, address = "127.0.0.1"): Promise<RawServer> {
  const server = net.createServer(onSocket);
  const { sockets, count } = tracked(server);
  const port = await listen(server, address);
  return { address, port, connections: count, openSockets: () => sockets.size, close: closer(server, sockets) };
}

/** A port nothing listens on (the kernel refuses connections to it). */
export async function closedPort(address = "127.0.0.1"): Promise<number> {
  const server = net.createServer();
  const port = await listen(server, address);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface ApacheInstance {
  address: string;
  port: number;
  dir: string;
  errorLog: () => Promise<string>;
  stop: () => Promise<void>;
}

// Wrapped in <IfModule !...>: some are compiled in (unixd on Debian) and loading them again is an error.
const MODULES = [
  ["mpm_event_module", "mod_mpm_event.so"],
  ["authz_core_module", "mod_authz_core.so"],
  ["authz_host_module", "mod_authz_host.so"],
  ["access_compat_module", "mod_access_compat.so"],
  ["unixd_module", "mod_unixd.so"],
  ["headers_module", "mod_headers.so"],
  ["proxy_module", "mod_proxy.so"],
  ["proxy_http_module", "mod_proxy_http.so"],
  ["slotmem_shm_module", "mod_slotmem_shm.so"],
  ["proxy_balancer_module", "mod_proxy_balancer.so"],
  ["lbmethod_byrequests_module", "mod_lbmethod_byrequests.so"],
] as const;

/**
 * Starts Apache 2.4 as its own instance (own ServerRoot, pid, logs, port) with the lab's sticky
 * reverse-proxy configuration over the given backends; runs in the foreground as this test's child.
 */
export async function startApacheBalancer(backends: readonly WebServer[], address = "127.0.0.1"): Promise<ApacheInstance> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hagrade-probe-apache-"));
  // Apache's workers drop to www-data and must reach the runtime dir.
  await chmod(dir, 0o755);
  await mkdir(path.join(dir, "run"), { mode: 0o755 });
  const port = await closedPort(address);
  const members = backends
    .map((b, i) => `        BalancerMember http://${b.address}:${b.port} loadfactor=1 route=wsrv${i + 1}`)
    .join("\n");
  const runAs = process.getuid?.() === 0 ? "User www-data\nGroup www-data\n" : "";
  const conf = `ServerRoot "${dir}"
DefaultRuntimeDir "${dir}/run"
PidFile "${dir}/run/apache2.pid"
Mutex file:${dir}/run default
ErrorLog "${dir}/error.log"
LogLevel warn
ServerName hagrade-probe-test
${runAs}${MODULES.map(([name, file]) => `<IfModule !${name}>\n    LoadModule ${name} /usr/lib/apache2/modules/${file}\n</IfModule>`).join("\n")}
StartServers 1
ServerLimit 1
ThreadsPerChild 10
MaxRequestWorkers 10
KeepAlive On
MaxKeepAliveRequests 100
KeepAliveTimeout 5
Listen ${address}:${port}
<VirtualHost ${address}:${port}>
    Header add Set-Cookie "ROUTEID=.%{BALANCER_WORKER_ROUTE}e; path=/" env=BALANCER_ROUTE_CHANGED
    ProxyPass / balancer://micluster/ lbmethod=byrequests stickysession=ROUTEID
    ProxyPassReverse / balancer://micluster/
    <Proxy balancer://micluster>
        Order deny,allow
        Allow from all
${members}
    </Proxy>
</VirtualHost>
`;
  const confPath = path.join(dir, "httpd.conf");
  await writeFile(confPath, conf);
  const child: ChildProcess = spawn("/usr/sbin/apache2", ["-d", dir, "-f", confPath, "-DFOREGROUND"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let running = true;
  void exited.then(() => {
    running = false;
  });

  const errorLog = async (): Promise<string> => readFile(path.join(dir, "error.log"), "utf8").catch(() => "");
  const stop = async (): Promise<void> => {
    if (running) {
      child.kill("SIGTERM");
      const stopped = await Promise.race([exited.then(() => true), delay(10_000).then(() => false)]);
      if (!stopped) {
        child.kill("SIGKILL");
        await exited;
      }
    }
    await rm(dir, { recursive: true, force: true });
  };

  for (let i = 0; i < 100; i++) {
    if (!running) break;
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: address, port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (up) return { address, port, dir, errorLog, stop };
    await delay(100);
  }
  const log = await errorLog();
  await stop();
  throw new Error(`Apache did not start on ${address}:${port}: ${stderr}\n${log}`);
}
