import { execFile } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labHosts, startLab, type Lab } from "../../fixtures/netns/index.js";
import { loadSpec } from "../../src/config/load.js";
import { SecretRegistry } from "../../src/config/secrets.js";
import { openSsh } from "../../src/runner/remote.js";
import { DEFAULT_START, DEFAULT_STOP } from "../../src/runner/failover.js";
import { shQuote, type SshPool } from "../../src/ssh/index.js";
import {
  connectCommand,
  countBackends,
  getMany,
  labSsh,
  recordConnections,
  run,
  ssh2ThroughBalancer,
  until,
} from "./helpers.js";

function rootSshListing(): string[] {
  return existsSync("/root/.ssh") ? readdirSync("/root/.ssh").sort() : [];
}

describe("the reference lab (correct variant)", () => {
  let lab: Lab;
  const etcHostsBefore = readFileSync("/etc/hosts", "utf8");
  const rootSshBefore = rootSshListing();

  beforeAll(async () => {
    lab = await startLab();
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it("writes a lab spec pointing at the lab's key and known_hosts", () => {
    const a = lab.addresses;
    expect(lab.spec.lab).toBe(lab.name);
    expect(lab.spec.part).toBe("proxy");
    expect(lab.spec.vip).toEqual({ address: a.vip, port: 80 });
    expect(lab.spec.balancer).toEqual({
      internalAddress: a.balancerInternal,
      serviceAddress: a.balancerService,
      ssh: { host: a.balancerService },
    });
    expect(lab.spec.backends).toEqual([
      { name: "webserver1", address: a.webservers.ws1, loadfactor: 3, route: "wsrv1" },
      { name: "webserver2", address: a.webservers.ws2, loadfactor: 1, route: "wsrv2" },
    ]);
    expect(lab.spec.grader.sourceAddresses).toEqual(a.graderSources);
    expect(existsSync(lab.spec.ssh.privateKey)).toBe(true);
    const knownHosts = readFileSync(lab.spec.ssh.knownHosts, "utf8");
    for (const address of [a.balancerService, a.webservers.ws1, a.webservers.ws2]) {
      expect(knownHosts).toMatch(new RegExp(`^${address.replaceAll(".", "\\.")} ssh-ed25519 `, "m"));
    }
  });

  it("gives each host its own hostname, PID namespace, mounts and Apache", async () => {
    const seen = new Map<string, { hostname: string; pidNs: string; mntNs: string; pid1: string }>();
    for (const host of labHosts) {
      const r = await lab.hostExec(
        host,
        "hostname; readlink /proc/self/ns/pid; readlink /proc/self/ns/mnt; cat /proc/1/comm",
      );
      expect(r.code).toBe(0);
      const [hostname = "", pidNs = "", mntNs = "", pid1 = ""] = r.stdout.trim().split("\n");
      seen.set(host, { hostname, pidNs, mntNs, pid1 });
    }
    expect([...seen.values()].map((s) => s.hostname)).toEqual(["balancer", "webserver1", "webserver2", "client"]);
    expect(new Set([...seen.values()].map((s) => s.pidNs)).size).toBe(4);
    expect(new Set([...seen.values()].map((s) => s.mntNs)).size).toBe(4);
    expect([...seen.values()].every((s) => s.pid1 === "tini")).toBe(true);

    // Each web server sees its own Apache and its own page, nothing of the other hosts.
    for (const [host, n] of [["ws1", "1"], ["ws2", "2"]] as const) {
      const r = await lab.hostExec(host, "pgrep -c -x apache2; pgrep -c -x sshd; pgrep -c -x keepalived; cat /var/www/html/index.html");
      expect(r.stdout).toContain(`Bienvenido a webserver${n}`);
      const [apaches = "0", sshds = "0", keepaliveds = "0"] = r.stdout.split("\n");
      expect(Number(apaches)).toBeGreaterThan(0);
      expect(Number(sshds)).toBe(1);
      expect(Number(keepaliveds)).toBe(0);
    }
    // A host sees only its own processes (not this test's node) and its own resolver and names.
    const view = await lab.hostExec("ws1", "ps -e -o comm=; cat /etc/resolv.conf /etc/hosts");
    expect(view.stdout).not.toMatch(/^node$/m);
    expect(view.stdout).toContain("nameserver 127.0.0.1");
    expect(view.stdout).toMatch(/^127\.0\.1\.1\twebserver1$/m);
        // The balancer's site exists only in the balancer; the machine's own Apache config is untouched.
    const site = await lab.hostExec("balancer", "cat /etc/apache2/sites-enabled/proxy-inverso.conf");
    expect(site.stdout).toContain(`BalancerMember http://${lab.addresses.webservers.ws1} loadfactor=3 route=wsrv1`);
    expect(existsSync("/etc/apache2/sites-enabled/proxy-inverso.conf")).toBe(false);
    const wsSite = await lab.hostExec("ws1", "ls /etc/apache2/sites-enabled/");
    expect(wsSite.stdout.trim()).toBe("000-default.conf");
  });

  it("answers SSH on the balancer directly and on webserver1 through it, with pinned host keys", async () => {
    const a = lab.addresses;
    const balancer = await labSsh(lab.stateDir, `root@${a.balancerService}`, "hostname; apache2ctl -M");
    expect(balancer.stderr).not.toMatch(/Host key verification failed/);
    expect(balancer.code).toBe(0);
    const [hostname] = balancer.stdout.split("\n");
    expect(hostname).toBe("balancer");
    expect(balancer.stdout).toMatch(/^ proxy_balancer_module \(shared\)$/m);
    expect(balancer.stdout).toMatch(/^ headers_module \(shared\)$/m);

    const ws1 = await labSsh(
      lab.stateDir,
      `root@${a.webservers.ws1}`,
      "hostname; ip route show default",
      `root@${a.balancerService}`,
    );
    expect(ws1.code).toBe(0);
    expect(ws1.stdout).toContain("webserver1");
    expect(ws1.stdout).toContain(`default via ${a.balancerInternal}`);

    // hagrade's way: ssh2 and forwardOut through the balancer.
    const viaSsh2 = await ssh2ThroughBalancer(lab.stateDir, a.balancerService, a.webservers.ws2, "hostname");
    expect(viaSsh2).toEqual({ code: 0, stdout: "webserver2\n" });

    // The lab's ssh_config, for people trying the lab by hand.
    const byConfig = await run("ssh", ["-F", join(lab.stateDir, "ssh_config"), "webserver2", "hostname"]);
    expect(byConfig.stdout.trim()).toBe("webserver2");

    // Each host has a host key of its own, as separate machines have.
    const keys = readFileSync(join(lab.stateDir, "known_hosts"), "utf8").trim().split("\n");
    const keyOf = (address: string) => keys.find((l) => l.startsWith(`${address} `))?.split(" ")[2];
    expect(keyOf(a.webservers.ws1)).not.toBe(keyOf(a.balancerService));
    expect(keyOf(a.webservers.ws1)).not.toBe(keyOf(a.webservers.ws2));
  });

  it("balances cookieless keep-alive requests 3:1 by requests, cookieing each route change", async () => {
    const responses = await getMany(lab.addresses.vip, 400);
    expect(responses.every((r) => r.status === 200)).toBe(true);
    // Apache closes a keep-alive connection after MaxKeepAliveRequests (100, Debian's default).
    expect(responses.filter((r) => !r.reusedSocket).length).toBeLessThanOrEqual(4);
    expect(countBackends(responses)).toEqual({ "1": 300, "2": 100 });
    // byrequests' smooth cycle: every 4 consecutive requests hold three of webserver1.
    for (let k = 0; k + 4 <= responses.length; k++) {
      expect(responses.slice(k, k + 4).filter((r) => r.backend === "1")).toHaveLength(3);
    }
    for (const r of responses) {
      for (const cookie of r.setCookie) expect(cookie).toBe(`ROUTEID=.wsrv${r.backend}; path=/`);
    }
    expect(responses.filter((r) => r.setCookie.length > 0).length).toBeGreaterThan(100);
  });

  it("keeps a client with ROUTEID=.wsrv2 on webserver2", async () => {
    const responses = await getMany(lab.addresses.vip, 20, { cookie: "ROUTEID=.wsrv2" });
    expect(countBackends(responses)).toEqual({ "2": 20 });
    // A grader's extra source address is a client of its own.
    const other = await getMany(lab.addresses.vip, 4, { localAddress: lab.addresses.graderSources[3] });
    expect(other.every((r) => r.status === 200)).toBe(true);
  });

  it("serves the VIP to the client host too", async () => {
    const r = await lab.hostExec("client", `curl -s -m 3 http://${lab.addresses.vip}/`);
    expect(r.stdout).toMatch(/Bienvenido a webserver[12]/);
  });

  it("masquerades a web server's connection to the service network as the balancer", async () => {
    const recorder = await recordConnections(lab.addresses.grader);
    try {
      const r = await lab.hostExec("ws1", connectCommand(lab.addresses.grader, recorder.port));
      expect(r.stdout).toContain("seen");
      expect(recorder.sources).toEqual([lab.addresses.balancerService]);
    } finally {
      await recorder.close();
    }
  });

  it("stops only webserver1's Apache with `service apache2 stop` over SSH", async () => {
    const a = lab.addresses;
    const jump = `root@${a.balancerService}`;
    try {
      const stop = await labSsh(lab.stateDir, `root@${a.webservers.ws1}`, "service apache2 stop", jump);
      expect(stop.code).toBe(0);
      expect((await lab.hostExec("ws1", "pgrep -x apache2")).code).toBe(1);
      expect((await lab.hostExec("ws2", "pgrep -x apache2")).code).toBe(0);
      expect((await lab.hostExec("balancer", "pgrep -x apache2")).code).toBe(0);
      const during = await getMany(a.vip, 8);
      expect(countBackends(during)).toEqual({ "2": 8 });
    } finally {
      const start = await labSsh(lab.stateDir, `root@${a.webservers.ws1}`, "service apache2 start", jump);
      expect(start.code).toBe(0);
      await until(
        async () => (await lab.hostExec("ws1", "ss -Hltn | grep -q ':80 '")).code === 0,
        10_000,
        "webserver1's Apache to listen again",
      );
    }
  });

  /** hagrade's own SSH pool on the lab, from the lab's spec (key, known_hosts, jump host). */
  async function labPool(): Promise<SshPool> {
    const loaded = await loadSpec(lab.specPath);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const ssh = await openSsh(loaded.spec, new SecretRegistry(), false);
    if (!ssh.ok) throw new Error(ssh.message.en);
    return ssh.pool;
  }
  const apacheRunning = async () => (await lab.hostExec("ws1", "pgrep -x apache2")).code === 0;
  const ws1Listening = async () => (await lab.hostExec("ws1", "ss -Hltn | grep -q ':80 '")).code === 0;
  /** webserver1's page as the balancer fetches it (not through the VIP: Apache's retry=60 would hold it out). */
  const ws1Page = async () => (await lab.hostExec("balancer", `curl -s -m 3 http://${lab.addresses.webservers.ws1}/`)).stdout;
  /** Puts webserver1's Apache back whatever a test left, and waits until it serves. */
  async function restoreWs1(pool: SshPool): Promise<void> {
    if (!(await ws1Listening())) await pool.get("webserver1").exec("apache2ctl start", { timeoutMs: 20_000 });
    await until(ws1Listening, 15_000, "webserver1's Apache to listen again");
  }

  it("apache2ctl -S over SSH shows each host's own virtual hosts", async () => {
    const pool = await labPool();
    try {
      const balancer = await pool.get("balancer").exec("apache2ctl -S");
      expect(balancer.code, balancer.stderr).toBe(0);
      const balancerS = balancer.stdout + balancer.stderr;
      expect(balancerS).toContain("/etc/apache2/sites-enabled/proxy-inverso.conf");
      expect(balancerS).toMatch(/Main DocumentRoot: "\/var\/www\/html"/);
      const ws1 = await pool.get("webserver1").exec("apache2ctl -S");
      expect(ws1.code, ws1.stderr).toBe(0);
      const ws1S = ws1.stdout + ws1.stderr;
      expect(ws1S).toContain("/etc/apache2/sites-enabled/000-default.conf");
      expect(ws1S).not.toContain("proxy-inverso");
    } finally {
      await pool.closeAll();
    }
  });

  it("apache2ctl graceful-stop then apache2ctl start over SSH: webserver1 stops, then serves again", async () => {
    const pool = await labPool();
    try {
      const stop = await pool.get("webserver1").exec("apache2ctl graceful-stop", { timeoutMs: 20_000 });
      expect(stop.code, stop.stderr).toBe(0);
      await until(async () => !(await apacheRunning()), 15_000, "webserver1's Apache to stop");
      expect(await ws1Page()).toBe("");
      expect((await lab.hostExec("ws2", "pgrep -x apache2")).code).toBe(0);
      const start = await pool.get("webserver1").exec("apache2ctl start", { timeoutMs: 20_000 });
      expect(start.code, start.stderr).toBe(0);
      await until(ws1Listening, 15_000, "webserver1's Apache to listen again");
      expect(await ws1Page()).toContain("Bienvenido a webserver1");
    } finally {
      await restoreWs1(pool).finally(() => pool.closeAll());
    }
  });

  it("the default stop/start commands take their apache2ctl branch where systemctl and service are missing", async () => {
    const pool = await labPool();
    const web = pool.get("webserver1");
    // A PATH with every command of the host but service and systemctl: a minimal machine.
    const bin = "/tmp/hagrade-no-service-bin";
    try {
      // One ln for them all (the first directory in PATH order wins, a later name already linked is
      // refused), then service and systemctl taken out: a loop of one ln per command took over 10 s
      // on a loaded machine.
      const farm = await web.exec(
        `rm -rf ${bin} && mkdir -p ${bin} && { shopt -s nullglob 2>/dev/null; ln -s /usr/local/sbin/* /usr/local/bin/* /usr/sbin/* /usr/bin/* /sbin/* /bin/* ${bin}/ 2>/dev/null; true; } && ` +
          `rm -f ${bin}/service ${bin}/systemctl && env PATH=${bin} /bin/bash -c 'command -v service systemctl apache2ctl'`,
        { timeoutMs: 60_000 },
      );
      expect(farm.stdout.trim()).toBe(`${bin}/apache2ctl`);
      const traced = (command: string) => `env PATH=${bin} /bin/bash -xc ${shQuote(command)}`;

      const stop = await web.exec(traced(DEFAULT_STOP), { timeoutMs: 20_000 });
      expect(stop.code, stop.stderr).toBe(0);
      expect(stop.stderr).toMatch(/^\+ apache2ctl graceful-stop$/m);
      expect(stop.stderr).not.toMatch(/^\+ (service|systemctl) /m);
      await until(async () => !(await apacheRunning()), 15_000, "webserver1's Apache to stop");
      expect(await ws1Page()).toBe("");

      const start = await web.exec(traced(DEFAULT_START), { timeoutMs: 20_000 });
      expect(start.code, start.stderr).toBe(0);
      expect(start.stderr).toMatch(/^\+ apache2ctl start$/m);
      expect(start.stderr).not.toMatch(/^\+ (service|systemctl) /m);
      await until(ws1Listening, 15_000, "webserver1's Apache to listen again");
      expect(await ws1Page()).toContain("Bienvenido a webserver1");
    } finally {
      await web.exec(`rm -rf ${bin}`).catch(() => undefined);
      await restoreWs1(pool).finally(() => pool.closeAll());
    }
  });

  it("the suite's leftover check sees a running lab: its namespaces, processes and namespace mounts", async () => {
    const r = await run("bash", [join(import.meta.dirname, "../../scripts/test.sh"), "--leftovers"], 60_000);
    expect(r.code).toBe(1);
    const i = lab.index;
    expect(r.stderr).toMatch(new RegExp(`^ +namespace hg${i}-bal$`, "m"));
    expect(r.stderr).toMatch(new RegExp(`^ +mount /run/netns/hg${i}-ws1 `, "m"));
    expect(r.stderr).toContain(`state folder ${lab.stateDir} `);
    // Processes of a lab host: PID 1 (tini, by its command line) and Apache, sshd (by their mounts).
    expect(r.stderr).toMatch(new RegExp(`^ +process \\d+ \\(tini\\): .*${lab.stateDir}/ws1`, "m"));
    const apachePids = (await run("ip", ["netns", "pids", `hg${i}-ws1`])).stdout.trim().split("\n")
      .filter((p) => existsSync(`/proc/${p}/comm`) && readFileSync(`/proc/${p}/comm`, "utf8").trim() === "apache2");
    expect(apachePids.length).toBeGreaterThan(0);
    for (const pid of apachePids) expect(r.stderr).toMatch(new RegExp(`^ +process ${pid} \\(apache2\\): `, "m"));
  });

  it("npm test leaves a lab that was up before it alone: named as such, not reported as left behind", async () => {
    const i = lab.index;
    // A real nested `npm test` of one small file, as a developer with a lab up would run it.
    // Other workers' labs come and go meanwhile: the nested run may report them, never take them down.
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("VITEST"))),
      HAGRADE_TEST_KEEP_LEFTOVERS: "1",
    };
    const nested = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        "bash",
        [join(import.meta.dirname, "../../scripts/test.sh"), "test/config/paths.test.ts"],
        { env, timeout: 170_000, killSignal: "SIGKILL", cwd: join(import.meta.dirname, "../..") },
        (error, _stdout, stderr) => resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stderr }),
      );
    });
    expect(nested.stderr).toMatch(new RegExp(`labs up before the suite, left alone: .*\\bhg${i}\\b`));
    // Other workers' labs may come and go meanwhile; this lab must not be named or stopped.
    expect(nested.stderr).not.toMatch(new RegExp(`^ +(namespace hg${i}-|state folder ${lab.stateDir})`, "m"));
    expect((await run("ip", ["netns", "list"])).stdout).toMatch(new RegExp(`^hg${i}-bal`, "m"));
    expect(existsSync(lab.stateDir)).toBe(true);
  }, 180_000);

  it("takes everything down: namespaces, processes, link, route, state, mounts", async () => {
    const i = lab.index;
    const initPids = labHosts.map((h) => readFileSync(join(lab.stateDir, h, "init.pid"), "utf8").trim());
    await lab.stop();

    const namespaces = (await run("ip", ["netns", "list"])).stdout;
    expect(namespaces).not.toMatch(new RegExp(`^hg${i}-`, "m"));
    for (const pid of initPids) expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect((await run("ip", ["link", "show", `hg${i}-g`])).code).not.toBe(0);
    expect((await run("ip", ["route", "show", `10.221.${i}.0/24`])).stdout.trim()).toBe("");
    expect(existsSync(lab.stateDir)).toBe(false);
    const mounts = readFileSync("/proc/self/mountinfo", "utf8");
    expect(mounts).not.toMatch(new RegExp(`/hg${i}-`));
    expect(mounts).not.toContain(`${lab.stateDir}/`);
    const leftovers = (await run("pgrep", ["-af", `${lab.stateDir}/`])).stdout.trim();
    expect(leftovers).toBe("");
    expect(readFileSync("/etc/hosts", "utf8")).toBe(etcHostsBefore);
    expect(rootSshListing()).toEqual(rootSshBefore);
    // The suite's leftover check finds nothing of this lab (other labs may be up meanwhile).
    const left = await run("bash", [join(import.meta.dirname, "../../scripts/test.sh"), "--leftovers"], 60_000);
    expect(left.stderr).not.toMatch(new RegExp(`hg${i}-|${lab.stateDir}`));
  });
});
