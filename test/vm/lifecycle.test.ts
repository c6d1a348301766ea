/**
 * The LVS lab's VM boots with a real IPVS behind keepalived, the grader reaches it the way
 * hagrade does (VIP over HTTP, SSH to the director and through it to the web servers), and
 * stopping it leaves nothing on the host. One VM for the whole file.
 */
import { execSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { startVmLab, type VmLab } from "../../fixtures/vm/index.js";
import { loadSpec } from "../../src/config/index.js";
import { LabSsh, countBackends, hostTraces, samplePages, waitUntil } from "./helpers.js";

const shell = (command: string) => execSync(command, { encoding: "utf8" });

describe("LVS lab VM", () => {
  let lab: VmLab;
  let director: LabSsh | undefined;

  beforeAll(async () => {
    lab = await startVmLab({ variant: "rr" });
    director = await LabSsh.connect(lab, lab.addresses.director);
  }, 300_000);

  afterAll(async () => {
    director?.close();
    await lab?.stop();
  }, 60_000);

  it("writes the lab spec hagrade reads, with its key and known hosts", async () => {
    const loaded = await loadSpec(lab.specPath);
    expect(loaded.ok ? loaded.warnings : loaded.problems).toEqual([]);
    const spec = parse(readFileSync(lab.specPath, "utf8")) as Record<string, unknown>;
    expect(spec).toEqual(JSON.parse(JSON.stringify(lab.spec)));
    expect(lab.spec).toMatchObject({
      part: "lvs",
      vip: { address: `10.230.${lab.index}.10`, port: 80 },
      balancer: { internalAddress: `10.231.${lab.index}.1`, serviceAddress: `10.230.${lab.index}.1` },
      expect: { lbAlgo: "rr", persistenceTimeout: 0 },
    });
    expect(lab.spec.backends.map((backend) => backend.address)).toEqual([
      `10.231.${lab.index}.11`,
      `10.231.${lab.index}.12`,
    ]);
    expect(existsSync(lab.spec.ssh.privateKey)).toBe(true);
    expect(readFileSync(lab.spec.ssh.knownHosts, "utf8")).toContain(`10.230.${lab.index}.1 ssh-ed25519 `);
    // The grader may bind to every client address it is given.
    const onHost = shell(`ip -4 -o addr show dev hgvm${lab.index}-cli`);
    for (const address of lab.spec.grader.sourceAddresses) expect(onHost).toContain(` ${address}/24 `);
  });

  it("serves both web servers' pages on the VIP to the grader in the root namespace", async () => {
    const counts = countBackends(await samplePages(lab, 6));
    expect(counts.webserver1).toBeGreaterThan(0);
    expect(counts.webserver2).toBeGreaterThan(0);
    expect(counts.webserver1 + counts.webserver2).toBe(6);
  });

  it("routes the server network into the lab, never out of the host", () => {
    const route = shell(`ip -4 route get 10.231.${lab.index}.11`);
    expect(route).toContain(`via 10.230.${lab.index}.1 dev hgvm${lab.index}-cli`);
  });

  it("runs a real IPVS in NAT mode under Debian 12's kernel, fed by keepalived", async () => {
    const result = await lab.directorExec("uname -r; pidof keepalived >/dev/null && echo keepalived-running; ipvsadm -Ln");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^6\.1\.\d+-\d+-amd64$/m);
    expect(result.stdout).toContain("keepalived-running");
    expect(result.stdout).toMatch(new RegExp(`^TCP  10\\.230\\.${lab.index}\\.10:80 rr\\s*$`, "m"));
    expect(result.stdout).toMatch(new RegExp(`-> 10\\.231\\.${lab.index}\\.11:80\\s+Masq\\s+1\\s`));
    expect(result.stdout).toMatch(new RegExp(`-> 10\\.231\\.${lab.index}\\.12:80\\s+Masq\\s+1\\s`));
  });

  it("returns exit code, stdout and stderr apart on the control channel", async () => {
    const result = await lab.directorExec("echo 'salida'; echo 'error' >&2; exit 7");
    expect(result).toEqual({ code: 7, stdout: "salida\n", stderr: "error\n" });
    const inside = await lab.webserverExec("webserver2", "hostname; cat /var/www/html/index.html");
    expect(inside.stdout).toContain("webserver2\n<html><body><h1>Bienvenido a webserver2</h1>");
  });

  it("lets the grader in by SSH: the director directly, each web server through it", async () => {
    if (director === undefined) throw new Error("no SSH connection to the director");
    const onDirector = await director.exec("hostname; cat /proc/sys/net/ipv4/ip_forward; ip -4 -o addr show dev eth0");
    expect(onDirector.code).toBe(0);
    expect(onDirector.stdout).toMatch(/^director\n1\n/);
    expect(onDirector.stdout).toContain(`inet 10.230.${lab.index}.10/24`);
    for (const name of ["webserver1", "webserver2"] as const) {
      const web = await director.jumpTo(lab, lab.addresses.backends[name]);
      try {
        const result = await web.exec("hostname; cat /var/www/html/index.html; ip -4 route show default; service apache2 status");
        expect(result.code).toBe(0);
        expect(result.stdout).toContain(`${name}\n<html><body><h1>Bienvenido a ${name}</h1>`);
        expect(result.stdout).toContain(`default via 10.231.${lab.index}.1 dev eth0`);
        expect(result.stdout).toContain("apache2 is running");
      } finally {
        web.close();
      }
    }
  });

  it("masquerades a web server's connection to the service network as the director", async () => {
    const server = createServer((socket) => socket.end(`${socket.remoteAddress}\n`));
    await new Promise<void>((resolve) => server.listen(0, lab.addresses.grader, resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const result = await lab.webserverExec(
        "webserver1",
        `exec 3<>/dev/tcp/${lab.addresses.grader}/${port} && head -n1 <&3`,
      );
      expect(result.stdout.trim()).toBe(lab.addresses.director);
    } finally {
      server.close();
    }
  });

  it("stops and starts a web server with stock commands over SSH, and keepalived follows", async () => {
    if (director === undefined) throw new Error("no SSH connection to the director");
    const web = await director.jumpTo(lab, lab.addresses.backends.webserver1);
    try {
      expect((await web.exec("service apache2 stop")).code).toBe(0);
      const without = await waitUntil(() => lab.readIpvsTable(), (t) => t?.realServers.webserver1 === undefined, 20_000);
      expect(without?.realServers).toEqual({ webserver2: 1 });
      expect(countBackends(await samplePages(lab, 4))).toEqual({ webserver1: 0, webserver2: 4 });
      expect((await web.exec("apache2ctl start")).code).toBe(0);
      const back = await waitUntil(() => lab.readIpvsTable(), (t) => t?.realServers.webserver1 !== undefined, 20_000);
      expect(back?.realServers).toEqual({ webserver1: 1, webserver2: 1 });
    } finally {
      await web.exec("pidof apache2 >/dev/null || apache2ctl start");
      web.close();
    }
  });

  it("refuses a second lab on an index in use, naming the fix", async () => {
    await expect(startVmLab({ index: lab.index })).rejects.toThrow(/already up.*lab\.sh down --index/);
  });

  it("stops leaving no qemu, tap, namespace, mount, route or state dir behind", async () => {
    director?.close();
    director = undefined;
    await lab.stop();
    expect(hostTraces(lab.index, shell)).toEqual([]);
    expect(existsSync(lab.stateDir)).toBe(false);
    // Stopping twice is harmless (afterAll does it again).
    await lab.stop();
  });
});

describe("LVS lab without its VM pieces", () => {
  it("says to run deps.sh, and creates nothing", async () => {
    const emptyCache = mkdtempSync(join(tmpdir(), "hgvm-cache-"));
    const saved = process.env.HAGRADE_VM_CACHE;
    process.env.HAGRADE_VM_CACHE = emptyCache;
    try {
      await expect(startVmLab({ index: 254 })).rejects.toThrow(/bash fixtures\/vm\/deps\.sh/);
      expect(hostTraces(254, shell)).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.HAGRADE_VM_CACHE;
      else process.env.HAGRADE_VM_CACHE = saved;
      rmSync(emptyCache, { recursive: true, force: true });
    }
  });

  it("names the known variants when given an unknown one", async () => {
    // @ts-expect-error: an unknown variant name, as a user could type it
    await expect(startVmLab({ variant: "wrr-2-1" })).rejects.toThrow(/unknown LVS lab variant 'wrr-2-1'.*wrr-3-1/);
  });
});
