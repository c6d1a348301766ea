/**
 * `hagrade doctor` and the student's quick start on a real Part 2 reference lab (network
 * namespaces, real Apache and sshd), through the BUILT command line (dist/, as `npx hagrade`
 * runs it): with only the balancer's address and the lab's key, `init --discover`, `doctor` and
 * `run` grade the correct lab with full marks and no hand edits. Then the same lab broken: a key
 * the lab does not know (exit 3, one line naming ssh.user and PermitRootLogin), and Apache stopped
 * on the balancer (the VIP down: exit 1, one line).
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLab, type Lab } from "../../fixtures/netns/index.js";
import { ROOT, type CliOutput } from "../cli/hagrade.js";

const exec = promisify(execFile);
const BIN = join(ROOT, "dist/src/bin.js");

/** The built CLI (CI builds before testing; a tree without dist/ builds it first). */
async function built(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<CliOutput> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], { cwd, env, timeout: 180_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

let lab: Lab;
let work: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  if (!existsSync(BIN)) execFileSync("npm", ["run", "build"], { cwd: ROOT, stdio: "ignore" });
  work = mkdtempSync(join(tmpdir(), "hagrade-quickstart-"));
  // A student's home with no ssh_config, no known_hosts and no agent: only the key given.
  const home = join(work, "home");
  mkdirSync(home);
  env = { PATH: process.env.PATH, HOME: home, USERPROFILE: home, HAGRADE_ALLOWED_NETWORKS: process.env.HAGRADE_ALLOWED_NETWORKS, HAGRADE_STATE_DIR: process.env.HAGRADE_STATE_DIR, LANG: "C.UTF-8" };
  lab = await startLab({ variant: "correct" });
}, 300_000);

afterAll(async () => {
  await lab?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the student's quick start on a running Part 2 reference lab", () => {
  it("init --discover root@ADDR && doctor --spec lab.yaml && run --spec lab.yaml: full marks, no hand edits", async () => {
    const key = join(lab.stateDir, "id_ed25519");
    const init = await built(["init", "--discover", `root@${lab.addresses.balancerService}`, "-i", key, "--lang", "en"], work, env);
    expect(init.code, init.stderr + init.stdout).toBe(0);
    expect(readFileSync(join(work, "lab.yaml"), "utf8")).toContain(lab.addresses.vip);

    const started = Date.now();
    const doctor = await built(["doctor", "--spec", "lab.yaml", "--lang", "en"], work, env);
    const doctorMs = Date.now() - started;
    expect(doctor.code, doctor.stderr + doctor.stdout).toBe(0);
    expect(doctor.stdout).toContain(`✔ The VIP ${lab.addresses.vip}:80 answers (HTTP 200)`);
    expect(doctor.stdout).toMatch(new RegExp(`✔ balancer \\(root@${lab.addresses.balancerService.replaceAll(".", "\\.")}:22\\): connects; host key ssh-ed25519 SHA256:\\S+ \\(pinned in the spec`));
    for (const name of ["webserver1", "webserver2"]) expect(doctor.stdout).toMatch(new RegExp(`✔ ${name} \\(root@[\\d.]+:22\\): connects`));
    expect(doctor.stdout).not.toContain("✘");
    expect(doctor.stdout).toContain("Everything a grade needs works");
    console.log(`doctor on a working lab: ${doctorMs} ms (process start included)`);

    // Without a spec: discovery first, then the same checks.
    const direct = await built(["doctor", "--discover", `root@${lab.addresses.balancerService}`, "-i", key, "--lang", "en"], work, env);
    expect(direct.code, direct.stderr + direct.stdout).toBe(0);
    expect(direct.stdout).toContain(`✔ The VIP ${lab.addresses.vip}:80 answers (HTTP 200)`);

    const run = await built(["run", "--spec", "lab.yaml", "--reporter", "console,json", "--out", "reports", "--lang", "en"], work, env);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const result = JSON.parse(readFileSync(join(work, "reports", "result.json"), "utf8")) as { score: number; maxScore: number; counts: Record<string, number> };
    expect(result.score).toBe(result.maxScore);
    expect(result.counts.error ?? 0).toBe(0);
  }, 600_000);

  it("a key the lab does not know: one line with the fix, exit 3", async () => {
    const wrong = join(work, "wrong_key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", wrong]);
    const spec = readFileSync(join(work, "lab.yaml"), "utf8");
    writeFileSync(join(work, "wrong-key.yaml"), spec.replaceAll(join(lab.stateDir, "id_ed25519"), wrong));
    const doctor = await built(["doctor", "--spec", "wrong-key.yaml", "--lang", "en"], work, env);
    expect(doctor.code, doctor.stdout + doctor.stderr).toBe(3);
    const problems = doctor.stdout.split("\n").filter((l) => l.startsWith("✘"));
    expect(problems, doctor.stdout).toHaveLength(1);
    expect(problems[0]).toMatch(/The SSH server of balancer .* rejected the authentication.*→ root login refused: set ssh\.user .*PermitRootLogin.*wrong_key/);
  }, 120_000);

  it("Apache stopped on the balancer (the VIP down): one line, exit 1", async () => {
    const stop = await lab.hostExec("balancer", "service apache2 stop");
    expect(stop.code, stop.stderr).toBe(0);
    const doctor = await built(["doctor", "--spec", "lab.yaml", "--lang", "en"], work, env);
    expect(doctor.code, doctor.stdout + doctor.stderr).toBe(1);
    const problems = doctor.stdout.split("\n").filter((l) => l.startsWith("✘"));
    expect(problems, doctor.stdout).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`The VIP ${lab.addresses.vip.replaceAll(".", "\\.")}:80 does not answer HTTP from here .*→ Start the balancer's service`));
  }, 120_000);
});
