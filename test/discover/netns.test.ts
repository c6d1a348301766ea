/**
 * `init --discover` on every Part 2 reference variant (network namespaces, real Apache and
 * sshd): discovery, with nothing but the balancer's address and the lab's key, writes a spec
 * that loads as written; graded, it gives the correct labs full marks and each broken one the
 * failures variants.json names (expectations come from the lab text, so a wrong configuration
 * cannot grade itself right); the differences it lists name each variant's fault; and it ran
 * only the read-only commands of src/discover/read.ts, which changed nothing on the lab.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listVariants, referenceCheckIds, startLab, type Lab } from "../../fixtures/netns/index.js";
import type { RunResult } from "../../src/runner/types.js";
import { DISCOVERY_COMMANDS, discoverLab, type DiscoveryResult } from "../../src/discover/index.js";
import { fetchPageCommand } from "../../src/runner/pages.js";
import { gradeSpecFile } from "../helpers/grade.js";

const NON_DISRUPTIVE: string[] = referenceCheckIds.filter((id) => id !== "proxy.failover");
const PARALLEL_LABS = 3;

/** The fault each variant is built for, as discovery should name it (a Difference topic). */
const FAULT_TOPIC: Record<string, string | undefined> = {
  correct: undefined,
  "rhel-layout": undefined,
  "one-backend-down": "page",
  "same-page": "page",
  "loadfactor-1-1": "loadfactor",
  "loadfactor-2-1": "loadfactor",
  "no-cookie-header": "cookie",
  "no-stickysession": "stickysession",
  "routes-swapped": "route",
  "duplicate-route": "route",
  "ip-forward-off": "ip_forward",
  "wrong-gateway": "gateway",
  "keepalived-running": "keepalived",
  "single-server-cheat": "one-machine",
};

/**
 * Variants whose fault is the VIP itself. The balancer's configuration does not say which address
 * the lab text's VIP is (its VirtualHost is *:80: discovery takes the balancer's service address),
 * so the teacher gives it, as `init --discover --vip` does.
 */
const VIP_FROM_LAB_TEXT = new Set(["vip-missing", "vip-refused", "vip-silent"]);

/** What could change on a lab: configuration, addresses, firewall, forwarding, daemons. */
const STATE = "md5sum /etc/apache2/sites-enabled/* /etc/keepalived/keepalived.conf /var/www/html/index.html 2>/dev/null; ip -j addr; ip -j route; nft list ruleset; cat /proc/sys/net/ipv4/ip_forward; ps -eo comm= | sort -u";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The lab's state once it stopped changing by itself: keepalived's VRRP takes its address seconds
 * after it starts, and a variant that restarted Apache may still have its old processes leaving
 * (seen under CI load). Settled means two reads a second apart agree; 20 s at most.
 */
async function settledState(lab: Lab): Promise<string> {
  if (lab.variant === "keepalived-running") {
    for (let i = 0; i < 40; i++) {
      if ((await lab.hostExec("balancer", "ip -4 -o addr show")).stdout.includes(`10.221.${lab.index}.250/`)) break;
      await sleep(250);
    }
  }
  let last = (await lab.hostExec("balancer", STATE)).stdout;
  for (let i = 0; i < 20; i++) {
    await sleep(1000);
    const now = (await lab.hostExec("balancer", STATE)).stdout;
    if (now === last) return now;
    last = now;
  }
  return last;
}

/**
 * Whether the state after discovery is the state before it. A change discovery made stays, so a
 * few reads a second apart that never match are a change; a process still leaving is not. On a
 * change, the lines that differ, for the failure message.
 */
async function compareState(lab: Lab, before: string): Promise<true | string> {
  let after = "";
  for (let i = 0; i < 4; i++) {
    if (i > 0) await sleep(1000);
    after = (await lab.hostExec("balancer", STATE)).stdout;
    if (after === before) return true;
  }
  const was = new Set(before.split(/\n|},{/));
  const is = new Set(after.split(/\n|},{/));
  return [...[...was].filter((l) => !is.has(l)).map((l) => `- ${l}`), ...[...is].filter((l) => !was.has(l)).map((l) => `+ ${l}`)].join("\n");
}

const variants = listVariants();
const discovered = new Map<string, DiscoveryResult>();
const results = new Map<string, RunResult>();
const unchanged = new Map<string, true | string>();
const home = mkdtempSync(join(tmpdir(), "hagrade-discover-home-"));
const labs = new Set<Lab>();

beforeAll(async () => {
  const queue = [...variants];
  const workers = await Promise.allSettled(
    Array.from({ length: PARALLEL_LABS }, async () => {
      for (let v = queue.shift(); v; v = queue.shift()) {
        const lab = await startLab({ variant: v.name });
        labs.add(lab);
        try {
          const before = await settledState(lab);
          const result = await discoverLab({
            destination: `root@${lab.addresses.balancerService}`,
            identity: join(lab.stateDir, "id_ed25519"),
            env: {},
            homeDir: home,
            sshConfig: false,
            lang: "en",
            ...(VIP_FROM_LAB_TEXT.has(v.name) ? { vip: { address: lab.addresses.vip, port: 80 } } : {}),
          });
          discovered.set(v.name, result);
          unchanged.set(v.name, await compareState(lab, before));
          if (result.ok) {
            const specPath = join(lab.stateDir, "discovered.yaml");
            writeFileSync(specPath, result.specText);
            results.set(v.name, await gradeSpecFile(specPath, { lang: "en", journalDir: join(lab.stateDir, "journal"), only: NON_DISRUPTIVE }));
          }
        } finally {
          await lab.stop();
          labs.delete(lab);
        }
      }
    }),
  );
  const failed = workers.find((w): w is PromiseRejectedResult => w.status === "rejected");
  if (failed) throw failed.reason;
}, 900_000);

afterAll(async () => {
  await Promise.all([...labs].map((l) => l.stop()));
  rmSync(home, { recursive: true, force: true });
});

describe.each(variants.map((v) => [v.name, v] as const))("discovering variant %s", (name, variant) => {
  it("writes a spec that loads and grades the lab as its fault calls for", () => {
    const found = discovered.get(name)!;
    expect(found.ok, found.ok ? "" : `${found.message.en} → ${found.fix.en}`).toBe(true);
    if (!found.ok) return;
    expect(found.lab.part).toBe("proxy");
    expect(found.spec.backends.map((b) => [b.name, b.route, b.loadfactor])).toEqual([["webserver1", "wsrv1", 3], ["webserver2", "wsrv2", 1]]);
    const result = results.get(name)!;
    const outcome = Object.fromEntries(result.checks.map((c) => [c.id, c]));
    const summary = result.checks.map((c) => `${c.id}: ${c.outcome} — ${c.message.en}`).join("\n");
    for (const id of variant.expect.pass.filter((i) => NON_DISRUPTIVE.includes(i))) {
      expect(outcome[id]?.outcome, `${id} should pass\n${summary}\n${found.specText}`).toBe("pass");
    }
    for (const id of variant.expect.fail.filter((i) => NON_DISRUPTIVE.includes(i))) {
      const check = outcome[id];
      const skippedByDependency = check?.outcome === "skipped" && check.evidence.some((e) => e.kind === "dependency" && outcome[String(e.dependsOn)]?.outcome !== "pass");
      if (!skippedByDependency) expect(check?.outcome, `${id} should fail\n${summary}\n${found.specText}`).toBe("fail");
    }
    if (variant.expect.fail.length === 0) expect(result.score, summary).toBe(result.maxScore);
  });

  it("lists where the configuration differs from the lab text", () => {
    const found = discovered.get(name)!;
    if (!found.ok) return;
    const topics = found.lab.differences.map((d) => d.topic);
    const want = FAULT_TOPIC[name];
    if (name in FAULT_TOPIC && want === undefined) expect(topics).toEqual([]);
    if (want !== undefined) expect(topics, found.lab.differences.map((d) => d.text.en).join("\n")).toContain(want);
    for (const d of found.lab.differences) {
      expect(d.text.es).not.toEqual(d.text.en);
      expect(d.fix.en.length).toBeGreaterThan(5);
    }
  });

  it("ran only read-only commands and changed nothing on the lab", () => {
    const found = discovered.get(name)!;
    const pages = new Set(found.ok ? found.lab.backends.map((b) => fetchPageCommand(b.address, b.port, "/")) : []);
    for (const c of found.commands) {
      const known = (DISCOVERY_COMMANDS as readonly string[]).includes(c.command) || pages.has(c.command);
      expect(known, c.command).toBe(true);
    }
    expect(found.commands.some((c) => c.command === DISCOVERY_COMMANDS[0])).toBe(true);
    const change = unchanged.get(name);
    expect(change, `the lab changed during discovery:\n${String(change)}`).toBe(true);
  });
});
