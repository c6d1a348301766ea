/**
 * The lab text's set-ups, each a place hagrade runs from (fixtures/netns/lab.sh): the client
 * network; inside the balancer, its commands run locally (no SSH, found from its addresses) or by
 * SSH to itself; a host on both networks as a VirtualBox host with a host-only adapter; behind a
 * port forwarder as VirtualBox's NAT engine (VIP 127.0.0.1:8080, SSH 127.0.0.1:2222). `hagrade run`
 * grades the correct lab with full marks from each, and says why net.nat's traffic test cannot
 * tell where it cannot; with its NAT table deleted (the nat-missing variant's fault) net.nat fails
 * from each. ONE lab is booted for all of it (a few minutes at most): the fault is made and undone
 * in place. docs/portability.md has the table these tests stand behind.
 */
import { execFileSync } from "node:child_process";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graderPlaces, startLab, type GraderPlace, type Lab } from "../../fixtures/netns/index.js";
import { gradeOptions, loadLabSpec } from "../helpers/grade.js";
import { gradeLab } from "../../src/runner/grade.js";
import type { Evidence, EvidenceOf } from "../../src/model/index.js";
import { gradeAt, summary } from "./places.js";

/** Behind the forwarder hagrade may reach loopback only: everything goes through the forwards. */
const envAt = (place: GraderPlace): NodeJS.ProcessEnv => (place.startsWith("forward") ? { HAGRADE_ALLOWED_NETWORKS: "127.0.0.0/8" } : {});

const natReach = (evidence: Evidence[]) => evidence.find((e) => e.kind === "nat-reach") as EvidenceOf<"nat-reach"> | undefined;
const sshCommands = (evidence: Evidence[]) => evidence.filter((e) => e.kind === "ssh-commands").flatMap((e) => (e as EvidenceOf<"ssh-commands">).commands);

// A balancer login that is not root, with ssh.sudo: always: sudo empties $SSH_CONNECTION, which
// net.nat reads as the login instead.
const SUDO_USER = "hagrade-nat-sudo";
const canAddUser = process.getuid?.() === 0 && existsSync("/usr/sbin/useradd") && existsSync("/usr/bin/sudo");
const sudoers = `/etc/sudoers.d/${SUDO_USER}`;
function removeUser(): void {
  try {
    execFileSync("userdel", [SUDO_USER], { stdio: "ignore" });
  } catch {
    // not there
  }
  rmSync(sudoers, { force: true });
}

let lab: Lab;
beforeAll(async () => {
  lab = await startLab({ places: ["hostonly", "forward"] });
  if (canAddUser) {
    removeUser();
    // '*': no password but not locked (the lab's sshd refuses locked accounts).
    execFileSync("useradd", ["-M", "-d", "/nonexistent", "-s", "/bin/sh", "-p", "*", SUDO_USER]);
    writeFileSync(sudoers, `${SUDO_USER} ALL=(ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
    // The balancer's sshd reads its authorized keys from its own /etc/ssh (the state folder).
    writeFileSync(join(lab.stateDir, "balancer", "etc-ssh", "authorized_keys", SUDO_USER), (await lab.hostExec("balancer", "cat /etc/ssh/authorized_keys/root")).stdout, { mode: 0o644 });
  }
}, 180_000);
afterAll(async () => {
  await lab?.stop();
  if (canAddUser) removeUser();
});

/** net.nat alone, graded in this process from the client network with spec overrides. */
async function natFromClient(overrides: Parameters<typeof loadLabSpec>[1], journal: string) {
  const spec = await loadLabSpec(lab.specPath, overrides);
  const result = await gradeLab(spec, gradeOptions({ journalDir: join(lab.stateDir, journal), only: ["net.nat"] }));
  const nat = result.checks.find((c) => c.id === "net.nat");
  if (!nat) throw new Error("no net.nat result");
  return nat;
}

describe("the correct Part 2 lab, graded from every place hagrade can run", () => {
  // What net.nat says at each place: a traffic test where one can tell, else why not.
  const natSays: Record<GraderPlace, RegExp> = {
    client: /^The servers leave masqueraded by the balancer \(webserver1 → 10\.220\.\d+\.1, webserver2 → 10\.220\.\d+\.1\)/,
    balancer: /no traffic test can tell NAT from routing: hagrade runs on the balancer itself: every address of this machine is the balancer's/,
    "balancer-ssh": /no traffic test can tell NAT from routing: hagrade runs on the balancer itself \(it logs in to itself over SSH: the balancer sees this machine as 127\.0\.0\.1/,
    hostonly: /^The servers leave masqueraded by the balancer \(webserver1 → 10\.220\.\d+\.1, webserver2 → 10\.220\.\d+\.1\)/,
    forward: /the balancer sees this machine as 10\.220\.\d+\.4, which is none of its addresses: an address translator lies between them/,
    "forward-nat-target": /the connections arrived from webserver1 → 127\.0\.0\.1, webserver2 → 127\.0\.0\.1, neither the balancer nor the web server itself/,
  };

  it.each(graderPlaces)("from %s: every check passes (the failover is not asked for)", async (place) => {
    const grade = await gradeAt(lab, place, { env: envAt(place) });
    const table = summary(grade);
    expect(grade.result.score, table).toBe(grade.result.maxScore);
    expect(grade.code, table).toBe(0);
    for (const check of grade.result.checks) {
      if (check.id === "proxy.failover") expect(check.notRequested, table).toBe(true);
      else expect(check.outcome, `${check.id}\n${table}`).toBe("pass");
    }
    const nat = grade.check("net.nat");
    expect(nat.message.en).toMatch(natSays[place]);
    const reach = natReach(nat.evidence);
    if (place === "hostonly") {
      // It logs in by the balancer's host-only address, yet never uses its own address there,
      // which a web server reaches directly: the target is its service-network address.
      expect(reach?.target).toMatch(new RegExp(`^10\\.220\\.${lab.index}\\.5:\\d+$`));
    }
    if (place === "balancer" || place === "balancer-ssh") expect(reach).toMatchObject({ target: "", place: "on-balancer" });
    if (place === "forward") expect(reach).toMatchObject({ target: "", place: "translated" });
  }, 300_000);

  it("on the balancer the balancer's commands ran there, without SSH", async () => {
    const log = async () => ((await lab.hostExec("balancer", "cat /var/log/sshd.log 2>/dev/null || true")).stdout.match(/Accepted publickey/g) ?? []).length;
    const before = await log();
    const grade = await gradeAt(lab, "balancer", { only: ["net.ip-forward", "net.gateway"] });
    const commands = sshCommands(grade.result.checks.flatMap((c) => c.evidence));
    expect(commands.some((c) => c.host === "balancer")).toBe(true);
    expect(grade.check("net.ip-forward").outcome).toBe("pass");
    expect(grade.check("net.gateway").outcome).toBe("pass");
    // The balancer's sshd saw no login of the balancer's own (the web servers' logins are theirs).
    expect(await log()).toBe(before);
  }, 300_000);

  it("grader.natTarget.port is where hagrade listens: the arrival is seen there", async () => {
    const port = 18_000 + lab.index;
    const nat = await natFromClient({ grader: { natTarget: { port } } }, "journal-nat-port");
    expect(nat.outcome, nat.message.en).toBe("pass");
    expect(natReach(nat.evidence)?.target).toBe(`${lab.addresses.grader}:${port}`);
  }, 120_000);

  it.skipIf(!canAddUser)("ssh.sudo: always with a login that is not root: passes from the traffic, $SSH_CONNECTION read as the login", async () => {
    const nat = await natFromClient({ balancer: { ssh: { user: SUDO_USER } }, ssh: { sudo: "always" } }, "journal-sudo");
    expect(nat.outcome, nat.message.en).toBe("pass");
    expect(natReach(nat.evidence)?.target).toMatch(new RegExp(`^${lab.addresses.grader.replaceAll(".", "\\.")}:\\d+$`));
    const commands = sshCommands(nat.evidence).filter((c) => c.host === "balancer");
    expect(commands.find((c) => c.command.includes("SSH_CONNECTION"))?.stdout).toContain(`ssh:${lab.addresses.grader} `);
  }, 120_000);
});

describe("the lab without NAT (its nat table deleted, as the nat-missing variant) fails net.nat from every place", () => {
  let saved = "";
  beforeAll(async () => {
    saved = (await lab.hostExec("balancer", "nft list table ip nat")).stdout;
    expect(saved).toContain("masquerade");
    await lab.hostExec("balancer", "nft delete table ip nat");
  });
  afterAll(async () => {
    if (saved) await lab.hostExec("balancer", `nft -f - <<'HAGRADE_NFT'\n${saved}\nHAGRADE_NFT`);
  });

  const natSays: Record<GraderPlace, RegExp> = {
    client: /^Connections cross the balancer without masquerading \(webserver1 → 10\.221\.\d+\.11/,
    balancer: /^No NAT rule \(masquerade\/SNAT\) of the balancer covers webserver1, webserver2 leaving by eth0\. From here no traffic test can tell NAT from routing: hagrade runs on the balancer itself/,
    "balancer-ssh": /^No NAT rule \(masquerade\/SNAT\) of the balancer covers webserver1, webserver2 leaving by eth0\. From here no traffic test can tell NAT from routing: hagrade runs on the balancer itself \(it logs in to itself/,
    hostonly: /^Connections cross the balancer without masquerading \(webserver1 → 10\.221\.\d+\.11/,
    forward: /^No NAT rule \(masquerade\/SNAT\) of the balancer covers webserver1, webserver2 leaving by eth0\. From here no traffic test can tell NAT from routing: the balancer sees this machine as 10\.220\.\d+\.4/,
    // The NAT engine cannot answer a source it has no route to: nothing arrives.
    "forward-nat-target": /cannot reach the service network \(10\.220\.\d+\.4\)\. No NAT rule of the balancer covers its address/,
  };

  it.each(graderPlaces)("from %s", async (place) => {
    const grade = await gradeAt(lab, place, { only: ["net.nat"], env: envAt(place) });
    const nat = grade.check("net.nat");
    expect(nat.outcome, nat.message.en).toBe("fail");
    expect(nat.message.en).toMatch(natSays[place]);
    expect(grade.code).toBe(1);
  }, 300_000);

  it("grader.natTarget.port set: the arrivals still decide, never the port alone", async () => {
    const nat = await natFromClient({ grader: { natTarget: { port: 18_000 + lab.index } } }, "journal-nat-port");
    expect(nat.outcome, nat.message.en).toBe("fail");
    expect(natReach(nat.evidence)?.reached.map((r) => r.natted)).toEqual([false, false]);
  }, 120_000);

  it.skipIf(!canAddUser)("ssh.sudo: always with a login that is not root: fails from the traffic", async () => {
    const nat = await natFromClient({ balancer: { ssh: { user: SUDO_USER } }, ssh: { sudo: "always" } }, "journal-sudo");
    expect(nat.outcome, nat.message.en).toBe("fail");
    expect(natReach(nat.evidence)?.reached.map((r) => r.natted)).toEqual([false, false]);
  }, 120_000);
});
