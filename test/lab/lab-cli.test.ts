/**
 * `npm run lab` (scripts/lab.sh, run with bash to spare npm's start-up): it brings up a real
 * reference lab of either part, shows it in status, prints a spec hagrade loads and the commands
 * to grade it and take it down, and down leaves nothing behind. Bad flags are refused before
 * anything is built. One Part 2 lab (namespaces) and one Part 1 lab (a qemu VM, booted once).
 */
import { execFile, execSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stopVmLab, vmStateRoot } from "../../fixtures/vm/index.js";
import { loadSpec } from "../../src/config/index.js";
import { getPage, hostTraces } from "../vm/helpers.js";
import { run, type CommandResult } from "./helpers.js";

const LAB_SH = fileURLToPath(new URL("../../scripts/lab.sh", import.meta.url));

function lab(args: string[], timeoutMs = 60_000): Promise<CommandResult> {
  return run("bash", [LAB_SH, ...args], timeoutMs);
}

/** The last non-empty line of stdout: where `up` prints the spec's path. */
function lastLine(text: string): string {
  return text.trimEnd().split("\n").at(-1) ?? "";
}

const shell = (command: string) => execSync(command, { encoding: "utf8" });

describe("npm run lab: bad flags", () => {
  it.each([
    [["up", "--colour", "red"], "--colour"],
    [["up", "--variant"], "--variant"],
    [["up", "--part", "lbs"], "--part"],
    [["status", "--variant", "rr"], "--variant"],
    [["down", "--directors", "2"], "--directors"],
    [["up", "--index", "x"], "--index"],
  ])("%j: one line naming %s, exit 2, nothing printed on stdout", async (args, flag) => {
    const result = await lab(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trim().split("\n");
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^lab: /);
    expect(lines[0]).toContain(flag);
  });

  it("names an unknown variant and lists the part's variants", async () => {
    const result = await lab(["up", "--part", "lvs", "--variant", "wrr-9-1"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("'wrr-9-1'");
    expect(result.stderr).toContain("wrr-3-1");
    expect(result.stderr).not.toContain("no-cookie-header");
  });

  it("lists each part's own variants", async () => {
    const proxy = await lab(["list"]);
    const lvs = await lab(["list", "--part", "lvs"]);
    expect(proxy.stdout.split("\n")).toContain("no-cookie-header");
    expect(proxy.stdout.split("\n")).not.toContain("wrr-3-1");
    expect(lvs.stdout.split("\n")).toContain("wrr-3-1");
    expect(lvs.stdout.split("\n")).toContain("keepalived-stopped");
  });
});

describe("npm run lab on an LVS state folder of its own (HAGRADE_VM_STATE)", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "hagrade-vm-state-"));
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });
  const labIn = (args: string[]) =>
    new Promise<CommandResult>((resolve) => {
      execFile("bash", [LAB_SH, ...args], { env: { ...process.env, HAGRADE_VM_STATE: root }, timeout: 30_000 },
        (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }));
    });

  it("with no lab: down --name of an unknown lab exits 0; status --name exits 1 naming it", async () => {
    const down = await labIn(["down", "--part", "lvs", "--name", "nobody"]);
    expect(down.code, down.stderr).toBe(0);
    const status = await labIn(["status", "--part", "lvs", "--name", "nobody"]);
    expect(status.code).toBe(1);
    expect(status.stderr).toContain("no LVS lab named 'nobody' is up");
  });

  it("lists an LVS lab that has a state folder but no spec yet as booting, exit 0", async () => {
    // A lab the moment after its index is claimed: a folder, no lab.yaml yet.
    mkdirSync(join(root, "hgvm7"));
    const result = await labIn(["status", "--part", "lvs"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^hgvm7 +- +variant=\? +origin=- +booting$/m);
  });
});

describe("npm run lab -- up --variant no-cookie-header (Part 2, network namespaces)", () => {
  const name = `labcli-${process.pid}`;
  let up: CommandResult;
  let specPath: string;

  beforeAll(async () => {
    up = await lab(["up", "--variant", "no-cookie-header", "--name", name], 150_000);
    specPath = lastLine(up.stdout);
  }, 180_000);

  afterAll(async () => {
    await lab(["down", "--name", name], 60_000);
  }, 90_000);

  it("prints the spec's path last, then how to grade it and take it down", () => {
    expect(up.code, up.stderr).toBe(0);
    expect(specPath).toMatch(/^\/.*\/hg\d+\/lab\.yaml$/);
    expect(existsSync(specPath)).toBe(true);
    expect(up.stderr).toContain(`npx hagrade run --spec ${specPath}`);
    expect(up.stderr).toContain(`npm run lab -- down --name ${name}`);
    expect(up.stderr).toContain("variant no-cookie-header");
  });

  it("writes a spec hagrade loads, for Part 2, naming the lab", async () => {
    const loaded = await loadSpec(specPath);
    expect(loaded.ok, JSON.stringify(loaded)).toBe(true);
    if (!loaded.ok) return;
    expect(loaded.spec.part).toBe("proxy");
    expect(loaded.spec.lab).toBe(name);
    expect(existsSync(loaded.spec.ssh?.privateKey ?? "")).toBe(true);
  });

  it("status lists it with its variant, under Part 2", async () => {
    const status = await lab(["status"]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain("Part 2 (proxy) labs:");
    expect(status.stdout).toContain("Part 1 (LVS) labs:");
    const line = status.stdout.split("\n").find((l) => l.includes(` ${name} `));
    expect(line, status.stdout).toBeDefined();
    expect(line).toContain("variant=no-cookie-header");
    expect(line).toContain("hosts up: balancer ws1 ws2 client");
  });

  it("down leaves no namespace, process or state folder", async () => {
    const stateDir = dirname(specPath);
    const index = basename(stateDir).replace(/^hg/, "");
    const initPids = ["balancer", "ws1", "ws2", "client"].map((host) =>
      readFileSync(join(stateDir, host, "init.pid"), "utf8").trim(),
    );
    for (const pid of initPids) expect(existsSync(`/proc/${pid}`)).toBe(true);
    const down = await lab(["down", "--name", name], 60_000);
    expect(down.code, down.stderr).toBe(0);
    expect(shell("ip netns list")).not.toMatch(new RegExp(`^hg${index}-`, "m"));
    for (const pid of initPids) expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(shell(`ip -o link show`)).not.toContain(`hg${index}-g`);
    expect(existsSync(stateDir)).toBe(false);
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(`${stateDir}/`);
    expect((await lab(["status", "--part", "proxy"])).stdout).not.toContain(` ${name} `);
  });
});

describe("npm run lab -- up --part lvs --variant wrr-3-1 (Part 1, qemu VM)", () => {
  const name = `labcli-vm-${process.pid}`;
  let up: CommandResult;
  let specPath: string;

  beforeAll(async () => {
    up = await lab(["up", "--part", "lvs", "--variant", "wrr-3-1", "--name", name], 300_000);
    specPath = lastLine(up.stdout);
  }, 320_000);

  afterAll(async () => {
    await lab(["down", "--part", "lvs", "--name", name], 60_000);
  }, 90_000);

  it("prints the spec's path last, then how to grade it and take it down", () => {
    expect(up.code, up.stderr).toBe(0);
    expect(specPath).toMatch(/^\/.*\/hgvm\d+\/lab\.yaml$/);
    expect(existsSync(specPath)).toBe(true);
    expect(up.stderr).toContain(`npx hagrade run --spec ${specPath}`);
    expect(up.stderr).toContain(`npm run lab -- down --part lvs --name ${name}`);
    expect(up.stderr).toContain("variant wrr-3-1");
  });

  it("writes a spec hagrade loads, for Part 1 with wrr, and the VIP answers", async () => {
    const loaded = await loadSpec(specPath);
    expect(loaded.ok, JSON.stringify(loaded)).toBe(true);
    if (!loaded.ok) return;
    expect(loaded.spec.part).toBe("lvs");
    expect(loaded.spec.expect?.lbAlgo).toBe("wrr");
    const page = await getPage(loaded.spec.vip.address);
    expect(page.status).toBe(200);
    expect(page.backend).toMatch(/^webserver[12]$/);
  });

  it("status lists it with its variant, and its IPVS table is the variant's", async () => {
    const status = await lab(["status", "--part", "lvs"]);
    const line = status.stdout.split("\n").find((l) => l.includes(` ${name} `));
    expect(line, status.stdout).toBeDefined();
    expect(line).toContain("variant=wrr-3-1");
    expect(line).toMatch(/running \(qemu pid \d+\)/);
    const table = await lab(["status", "--part", "lvs", "--name", name]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^TCP\s+\S+:80 wrr/m);
    expect(table.stdout).toMatch(/Masq\s+3\s/);
  });

  it("variant switches the running lab (keepalived reload) and rewrites its spec", async () => {
    const switched = await lab(["variant", "--part", "lvs", "--name", name, "--variant", "rr"], 90_000);
    expect(switched.code, switched.stderr).toBe(0);
    expect(lastLine(switched.stdout)).toBe(specPath);
    const status = await lab(["status", "--part", "lvs"]);
    expect(status.stdout.split("\n").find((l) => l.includes(` ${name} `))).toContain("variant=rr ");
    const loaded = await loadSpec(specPath);
    expect(loaded.ok && loaded.spec.expect?.lbAlgo).toBe("rr");
  });

  it("down leaves no qemu, tap, namespace, mount, route or state folder", async () => {
    const stateDir = dirname(specPath);
    const index = Number(basename(stateDir).replace(/^hgvm/, ""));
    expect(hostTraces(index, shell).some((t) => t.startsWith("qemu:"))).toBe(true);
    const down = await lab(["down", "--part", "lvs", "--name", name], 60_000);
    expect(down.code, down.stderr).toBe(0);
    expect(hostTraces(index, shell)).toEqual([]);
    expect(existsSync(stateDir)).toBe(false);
    expect((await lab(["status", "--part", "lvs"])).stdout).not.toContain(` ${name} `);
  });
});

describe("npm run lab -- up --part lvs, interrupted with Ctrl-C while the VM boots", () => {
  it("takes the half-booted lab down: no qemu, namespace, mount or state folder is left", async () => {
    const name = `labcli-int-${process.pid}`;
    // Its own process group, as a terminal's foreground job: Ctrl-C reaches every process in it.
    const child = spawn("bash", [LAB_SH, "up", "--part", "lvs", "--name", name], { detached: true, stdio: "ignore" });
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once("exit", (code, signal) => resolve(signal ?? code)));
    let index: number | undefined;
    try {
      // The lab's owner file names the `up` that claimed it; Ctrl-C once its qemu runs.
      const deadline = Date.now() + 120_000;
      while (index === undefined && Date.now() < deadline) {
        index = bootingLabNamed(name);
        if (index === undefined) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(index, "the lab never reached the booting qemu").toBeDefined();
      process.kill(-child.pid!, "SIGINT");
      await exited;
      expect(hostTraces(index!, shell)).toEqual([]);
      expect(existsSync(join(vmStateRoot(), `hgvm${index}`))).toBe(false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGKILL");
      if (index !== undefined) await stopVmLab(index);
    }
  }, 180_000);
});

/** The index of the LVS lab whose `up --name NAME` is booting (its qemu runs), if any. */
function bootingLabNamed(name: string): number | undefined {
  const root = vmStateRoot();
  if (!existsSync(root)) return undefined;
  for (const entry of readdirSync(root)) {
    const index = /^hgvm(\d+)$/.exec(entry)?.[1];
    if (index === undefined) continue;
    const owner = join(root, entry, "owner");
    if (!existsSync(owner) || !readFileSync(owner, "utf8").includes(`--name ${name}`)) continue;
    if (existsSync(join(root, entry, "vm.pid"))) return Number(index);
  }
  return undefined;
}
