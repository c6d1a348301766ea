/**
 * `hagrade doctor` on set-ups that need no real lab: a scripted SSH server (test/helpers/fake-sshd.ts)
 * plays the balancer, a loopback HTTP server the VIP. Each broken set-up gives its one line, with
 * its fix, and the exit code `run` would give: the grader's setup (credentials, sudo) 3, the lab
 * (a missing tool, the VIP down, no address on the servers' network) 1.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli.js";
import { parseSpecText } from "../../src/config/load.js";
import type { LabSpec } from "../../src/config/schema.js";
import { doctorLab, parseProbe, probeCommand, programOf, type DoctorResult } from "../../src/doctor/index.js";
import { doctorText } from "../../src/cli/doctor.js";
import { scripted, startFakeSshd, type FakeAnswer, type FakeSshd } from "../helpers/fake-sshd.js";

const ALL_TOOLS = ["ipvsadm", "keepalived", "apache2ctl", "nft", "iptables", "curl", "bash", "systemctl", "ip"];
const ADDRS = "1: lo    inet 127.0.0.1/8 scope host lo\n2: eth1    inet 10.9.0.1/24 brd 10.9.0.255 scope global eth1\n";

function probeAnswer(tools: string[], addresses = ADDRS): FakeAnswer {
  return { stdout: [...tools.map((x) => `tool ${x}`), "systemd", "@@hagrade-doctor@@", addresses].join("\n") };
}

const servers: FakeSshd[] = [];
let vip: Server;
let vipPort: number;
let closedPort: number;

async function sshd(probe: FakeAnswer, options: { uid?: number; sudo?: FakeAnswer; auth?: "any" | "refuse" } = {}): Promise<FakeSshd> {
  const uid = options.uid ?? 0;
  let self = { host: "127.0.0.1", port: 0 };
  const s = await startFakeSshd({
    auth: options.auth ?? "any",
    // The web servers, reached through the balancer, are played by the same server.
    forward: () => self,
    answer: scripted([
      ["u=$(id -u)", options.sudo ?? { stdout: `${uid}\n` }],
      ["for t in ", probe],
    ]),
  });
  self = { host: s.address, port: s.port };
  servers.push(s);
  return s;
}

async function specFor(s: FakeSshd, extra: { user?: string; vipPort?: number; part?: string } = {}): Promise<LabSpec> {
  const text = JSON.stringify({
    lab: "doctor-fake",
    part: extra.part ?? "lvs",
    vip: { address: "127.0.0.1", port: extra.vipPort ?? vipPort },
    balancer: { internalAddress: "10.9.0.1", ssh: { host: s.address, port: s.port, hostKey: s.fingerprint } },
    backends: [
      { name: "webserver1", address: "10.9.0.11", loadfactor: 3 },
      { name: "webserver2", address: "10.9.0.12" },
    ],
    ssh: { user: extra.user ?? "root", password: "pw", config: false, hostKeys: { "10.9.0.11": s.fingerprint, "10.9.0.12": s.fingerprint } },
  });
  const loaded = await parseSpecText(text, { baseDir: process.cwd(), sourceName: "doctor.json" });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.spec;
}

const problems = (r: DoctorResult) => r.lines.filter((l) => l.status === "problem");
const text = (r: DoctorResult) => doctorText(r, "en");

beforeAll(async () => {
  vip = createServer((_req, res) => res.end("webserver1\n"));
  await new Promise<void>((done) => vip.listen(0, "127.0.0.1", done));
  vipPort = (vip.address() as AddressInfo).port;
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, "127.0.0.1", done));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise((done) => probe.close(done));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await new Promise((done) => vip.close(done));
});

describe("hagrade doctor (scripted balancer)", () => {
  it("all OK: the VIP answers, the balancer connects with its host key shown, every tool is there", async () => {
    const s = await sshd(probeAnswer(ALL_TOOLS));
    const result = await doctorLab(await specFor(s));
    expect(problems(result), text(result)).toEqual([]);
    expect(result.verdict).toBe("ok");
    expect(text(result)).toContain(`The VIP 127.0.0.1:${vipPort} answers (HTTP 200)`);
    expect(text(result)).toContain(`hostKey: ${s.fingerprint}`);
    // Only read-only probes reached the machines: the balancer's (with its addresses) and each web server's.
    expect(s.checkCommands().map((c) => c.command).sort()).toEqual([probeCommand([], false), probeCommand([], false), probeCommand([], true)].sort());
    expect(text(result)).toContain("webserver1 (root@10.9.0.11:22): connects");
  });

  it("the VIP down: one line naming it, exit as a lab fault", async () => {
    const s = await sshd(probeAnswer(ALL_TOOLS));
    const result = await doctorLab(await specFor(s, { vipPort: closedPort }));
    expect(problems(result).map((l) => l.code)).toEqual(["vip"]);
    expect(result.verdict).toBe("lab");
    expect(text(result)).toMatch(new RegExp(`✘ The VIP 127\\.0\\.0\\.1:${closedPort} does not answer HTTP from here .*→ Start the balancer's service`));
  });

  it("a missing tool: ipvsadm on a Part 1 balancer, with the package to install", async () => {
    const s = await sshd(probeAnswer(ALL_TOOLS.filter((x) => x !== "ipvsadm")));
    const result = await doctorLab(await specFor(s));
    expect(problems(result).map((l) => l.code)).toEqual(["tool:ipvsadm"]);
    expect(result.verdict).toBe("lab");
    expect(text(result)).toContain("✘ balancer: ipvsadm is missing (the LVS checks read the table with ipvsadm -Ln). → Install it on balancer: apt install ipvsadm (dnf install ipvsadm).");
    // Part 2 needs apache2ctl or apachectl instead, and not ipvsadm.
    const proxy = await doctorLab(await specFor(await sshd(probeAnswer(["nft", "curl", "ip"])), { part: "proxy" }));
    expect(problems(proxy).filter((l) => l.subject === "balancer").map((l) => l.code)).toEqual(["tool:apache2ctl/apachectl"]);
    // And web servers with nothing to stop Apache with are told to give the commands.
    expect(problems(proxy).filter((l) => l.subject !== "balancer").map((l) => l.code)).toEqual(["service", "service"]);
  });

  it("sudo asking for a password: the one line says so, exit as the grader's setup", async () => {
    const s = await sshd(probeAnswer(ALL_TOOLS), { sudo: { stdout: "1000\n", stderr: "sudo: a password is required\n", code: 1 } });
    const result = await doctorLab(await specFor(s, { user: "student" }));
    // One line for each machine where the user logs in.
    expect(problems(result).map((l) => [l.subject, l.code])).toEqual([["balancer", "sudo"], ["webserver1", "sudo"], ["webserver2", "sudo"]]);
    expect(result.verdict).toBe("grader");
    expect(text(result)).toMatch(/✘ On balancer \(.*\) the user is not root and sudo cannot be used without a password \(sudo: a password is required\)\. → .*NOPASSWD/);
    // With a NOPASSWD rule the same user passes, and doctor says sudo works.
    const ok = await doctorLab(await specFor(await sshd(probeAnswer(ALL_TOOLS), { uid: 1000 }), { user: "student" }));
    expect(problems(ok)).toEqual([]);
    expect(text(ok)).toContain("balancer: sudo -n works without a password.");
  });

  it("root login refused: the fix names ssh.user and PermitRootLogin", async () => {
    const s = await sshd(probeAnswer(ALL_TOOLS), { auth: "refuse" });
    const result = await doctorLab(await specFor(s));
    expect(problems(result).map((l) => l.code)).toEqual(["ssh:auth"]);
    expect(result.verdict).toBe("grader");
    expect(text(result)).toMatch(/✘ The SSH server of balancer .* rejected the authentication.* → root login refused: set ssh\.user \(a user with sudo\), or PermitRootLogin/);
    expect(text(result).split("\n").filter((l) => l.startsWith("✘"))).toHaveLength(1);
  });

  it("the balancer with no address on the web servers' network: the host-only adapter line", async () => {
    const s = await sshd(probeAnswer(ALL_TOOLS, "1: lo    inet 127.0.0.1/8 scope host lo\n2: eth0    inet 192.168.0.10/24 scope global eth0\n"));
    const result = await doctorLab(await specFor(s));
    expect(problems(result).map((l) => l.code)).toEqual(["network"]);
    expect(text(result)).toContain("→ host-only adapter has no address on 10.9.0.0/24");
  });

  it("reads only the lines it asked for, and the program of a service command", () => {
    const reading = parseProbe("tool ipvsadm\ntool rm\nprogram evil\nprogram /usr/bin/x\nsystemd\n@@hagrade-doctor@@\n2: e inet 10.0.0.1/24 x\n", ["/usr/bin/x"]);
    expect([...reading.tools]).toEqual(["ipvsadm"]);
    expect([...reading.programs]).toEqual(["/usr/bin/x"]);
    expect(reading).toMatchObject({ systemd: true, addresses: ["10.0.0.1/24"] });
    expect(programOf("systemctl stop apache2")).toBe("systemctl");
    expect(programOf("sudo -n /usr/sbin/apachectl -k stop")).toBe("/usr/sbin/apachectl");
    expect(programOf("$(evil)")).toBeUndefined();
  });

  it("bad input is exit 2 with the flag named, as for run", async () => {
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      expect(await main(["doctor"])).toBe(2);
      expect(String(err.mock.calls.at(-1)?.[0])).toContain("give either --spec FILE or --discover");
      expect(await main(["doctor", "--spec", "/nonexistent/lab.yaml"])).toBe(2);
      expect(await main(["doctor", "--spec", "lab.yaml", "-i", "key"])).toBe(2);
      expect(String(err.mock.calls.at(-1)?.[0])).toContain("--identity goes with --discover");
    } finally {
      err.mockRestore();
    }
  });
});
