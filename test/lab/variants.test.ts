import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  labScript,
  listVariants,
  referenceCheckIds,
  startLab,
  type Lab,
} from "../../fixtures/netns/index.js";
import { tcpReach } from "../../src/probe/index.js";
import { connectCommand, countBackends, getMany, recordConnections, run } from "./helpers.js";

const variantNames = [
  "correct",
  "one-backend-down",
  "same-page",
  "loadfactor-1-1",
  "loadfactor-2-1",
  "no-cookie-header",
  "no-stickysession",
  "routes-swapped",
  "duplicate-route",
  "no-proxy-http",
  "ip-forward-off",
  "nat-missing",
  "wrong-gateway",
  "keepalived-running",
  "single-server-cheat",
  "vip-missing",
  "vip-refused",
  "vip-silent",
  "rhel-layout",
  "rhel-no-proxy-http",
];

/** Correct labs in another layout: they must pass everything, like "correct". */
const correctLayouts = ["correct", "rhel-layout"];

describe("variants.json", () => {
  it("names every variant lab.sh can build, and only those", async () => {
    expect(listVariants().map((v) => v.name)).toEqual(variantNames);
    const built = (await run("bash", [labScript, "list"])).stdout.trim().split("\n").sort();
    expect(built).toEqual([...variantNames].sort());
  });

  it("states for each variant checks that pass and checks that fail, from the rubric's ids", () => {
    const ids: readonly string[] = referenceCheckIds;
    for (const variant of listVariants()) {
      const { pass, fail } = variant.expect;
      expect(variant.description.es.length, variant.name).toBeGreaterThan(40);
      expect(variant.description.en.length, variant.name).toBeGreaterThan(40);
      for (const id of [...pass, ...fail]) expect(ids, `${variant.name}: ${id}`).toContain(id);
      expect(pass.filter((id) => fail.includes(id)), variant.name).toEqual([]);
      expect(new Set(pass).size + new Set(fail).size).toBe(pass.length + fail.length);
      if (correctLayouts.includes(variant.name)) {
        expect([...pass].sort()).toEqual([...ids].sort());
      } else {
        // A broken lab is broken somewhere, and still right somewhere else.
        expect(fail.length, variant.name).toBeGreaterThan(0);
        expect(pass.length, variant.name).toBeGreaterThan(0);
      }
    }
  });
});

/** Runs `task` over `items`, at most `limit` at a time. */
async function pool<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const k = next++;
      try {
        results[k] = { status: "fulfilled", value: await task(items[k] as T) };
      } catch (reason) {
        results[k] = { status: "rejected", reason };
      }
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

describe("each broken variant really shows its fault", () => {
  const labs = new Map<string, Lab>();
  const broken = variantNames.filter((n) => !correctLayouts.includes(n));

  beforeAll(async () => {
    const started = await pool(broken, 5, (variant) => startLab({ variant }));
    started.forEach((r, k) => {
      if (r.status === "fulfilled") labs.set(broken[k] as string, r.value);
    });
    const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
    // Eighteen labs, five at a time: on a loaded machine a round of starts takes about a minute.
  }, 600_000);
  afterAll(async () => {
    await Promise.allSettled([...labs.values()].map((lab) => lab.stop()));
  });

  const lab = (variant: string): Lab => {
    const found = labs.get(variant);
    if (!found) throw new Error(`lab ${variant} did not start`);
    return found;
  };

  /** Where a connection from a web server to the grader's address arrives from ("" if never). */
  async function natSource(l: Lab, host: "ws1" | "ws2"): Promise<string> {
    const recorder = await recordConnections(l.addresses.grader);
    try {
      await l.hostExec(host, connectCommand(l.addresses.grader, recorder.port, 2));
      return recorder.sources.join(",");
    } finally {
      await recorder.close();
    }
  }

  it("one-backend-down: only webserver1 answers through the VIP", async () => {
    const l = lab("one-backend-down");
    expect((await l.hostExec("ws2", "pgrep -x apache2")).code).toBe(1);
    expect(countBackends(await getMany(l.addresses.vip, 40))).toEqual({ "1": 40 });
  });

  it("same-page: both servers answer 'webserver1', cookies still name wsrv2", async () => {
    const responses = await getMany(lab("same-page").addresses.vip, 8);
    expect(countBackends(responses)).toEqual({ "1": 8 });
    expect(responses.flatMap((r) => r.setCookie)).toContain("ROUTEID=.wsrv2; path=/");
  });

  it("loadfactor-1-1: requests alternate one by one", async () => {
    const responses = await getMany(lab("loadfactor-1-1").addresses.vip, 40);
    expect(countBackends(responses)).toEqual({ "1": 20, "2": 20 });
    for (let k = 1; k < responses.length; k++) {
      expect(responses[k]?.backend).not.toBe(responses[k - 1]?.backend);
    }
  });

  it("loadfactor-2-1: two of every three requests go to webserver1", async () => {
    expect(countBackends(await getMany(lab("loadfactor-2-1").addresses.vip, 60))).toEqual({ "1": 40, "2": 20 });
  });

  it("no-cookie-header: balanced, but no Set-Cookie ever", async () => {
    const responses = await getMany(lab("no-cookie-header").addresses.vip, 20);
    expect(countBackends(responses)).toEqual({ "1": 15, "2": 5 });
    expect(responses.flatMap((r) => r.setCookie)).toEqual([]);
  });

  it("no-stickysession: a cookie on every response, ignored on the next request", async () => {
    const vip = lab("no-stickysession").addresses.vip;
    const plain = await getMany(vip, 8);
    for (const r of plain) expect(r.setCookie).toEqual([`ROUTEID=.wsrv${r.backend}; path=/`]);
    const withCookie = await getMany(vip, 20, { cookie: "ROUTEID=.wsrv2" });
    expect(countBackends(withCookie)).toEqual({ "1": 15, "2": 5 });
  });

  it("routes-swapped: webserver1's responses carry route wsrv2, which sticks to webserver1", async () => {
    const vip = lab("routes-swapped").addresses.vip;
    const responses = await getMany(vip, 8);
    const cookieOf = (n: string) => responses.find((r) => r.backend === n && r.setCookie.length > 0)?.setCookie[0];
    expect(cookieOf("1")).toBe("ROUTEID=.wsrv2; path=/");
    expect(cookieOf("2")).toBe("ROUTEID=.wsrv1; path=/");
    expect(countBackends(await getMany(vip, 12, { cookie: "ROUTEID=.wsrv2" }))).toEqual({ "1": 12 });
  });

  it("duplicate-route: both servers issue route wsrv1, and that cookie always reaches webserver1", async () => {
    const vip = lab("duplicate-route").addresses.vip;
    const responses = await getMany(vip, 8);
    expect(countBackends(responses)).toEqual({ "1": 6, "2": 2 });
    for (const r of responses) expect(r.setCookie).toEqual(["ROUTEID=.wsrv1; path=/"]);
    expect(countBackends(await getMany(vip, 12, { cookie: "ROUTEID=.wsrv1" }))).toEqual({ "1": 12 });
  });

  it("no-proxy-http: configtest is happy, every request gets 503", async () => {
    const l = lab("no-proxy-http");
    const responses = await getMany(l.addresses.vip, 10);
    expect(responses.map((r) => r.status)).toEqual(new Array(10).fill(503));
    const modules = await l.hostExec("balancer", "apache2ctl -M 2>/dev/null; apache2ctl configtest");
    expect(modules.stdout).toContain("proxy_balancer_module");
    expect(modules.stdout).not.toContain("proxy_http_module");
    expect(modules.stderr).toContain("Syntax OK");
  });

  it("ip-forward-off: the VIP works, the web servers cannot reach the service network", async () => {
    const l = lab("ip-forward-off");
    expect((await l.hostExec("balancer", "cat /proc/sys/net/ipv4/ip_forward")).stdout.trim()).toBe("0");
    expect(await natSource(l, "ws1")).toBe("");
    expect(countBackends(await getMany(l.addresses.vip, 8))).toEqual({ "1": 6, "2": 2 });
  });

  it("nat-missing: a web server's connection arrives from its private address", async () => {
    const l = lab("nat-missing");
    expect(await natSource(l, "ws1")).toBe(l.addresses.webservers.ws1);
    expect(countBackends(await getMany(l.addresses.vip, 8))).toEqual({ "1": 6, "2": 2 });
  });

  it("wrong-gateway: webserver2's default route leads nowhere, proxying still works", async () => {
    const l = lab("wrong-gateway");
    const route = await l.hostExec("ws2", "ip route show default");
    expect(route.stdout).toContain(`default via 10.221.${l.index}.254`);
    expect(await natSource(l, "ws2")).toBe("");
    expect(await natSource(l, "ws1")).toBe(l.addresses.balancerService);
    expect(countBackends(await getMany(l.addresses.vip, 8))).toEqual({ "1": 6, "2": 2 });
  });

  it("keepalived-running: a real keepalived runs in the balancer only", async () => {
    const l = lab("keepalived-running");
    const balancer = await l.hostExec("balancer", "pgrep -x keepalived");
    expect(balancer.code).toBe(0);
    expect(balancer.stdout.trim().split("\n").length).toBeGreaterThanOrEqual(1);
    expect((await l.hostExec("ws1", "pgrep -x keepalived")).code).toBe(1);
    expect(countBackends(await getMany(l.addresses.vip, 8))).toEqual({ "1": 6, "2": 2 });
  });

  it("rhel-no-proxy-http: a CentOS balancer without proxy_http's LoadModule answers 503", async () => {
    const l = lab("rhel-no-proxy-http");
    const responses = await getMany(l.addresses.vip, 6);
    expect(responses.map((r) => r.status)).toEqual(new Array(6).fill(503));
    const modules = await l.hostExec("balancer", "apachectl -M 2>/dev/null; grep -n proxy_http /etc/httpd/conf.modules.d/00-proxy.conf");
    expect(modules.stdout).toContain("proxy_balancer_module");
    expect(modules.stdout).not.toMatch(/^ proxy_http_module/m);
    expect(modules.stdout).toMatch(/:#LoadModule proxy_http_module modules\/mod_proxy_http\.so/);
  });

  it("vip-missing: nothing holds the VIP (EHOSTUNREACH) while the balancer's own address answers", async () => {
    const l = lab("vip-missing");
    expect((await l.hostExec("balancer", "ip -4 -o addr show dev eth0")).stdout).not.toContain(`${l.addresses.vip}/`);
    // Past the kernel's ARP attempts (3 × 1 s), so the answer is the unreachable host, not our deadline.
    expect(await tcpReach(l.addresses.vip, 80, 4000)).toMatchObject({ state: "unreachable", code: "EHOSTUNREACH" });
    expect((await tcpReach(l.addresses.balancerService, 22, 2000)).state).toBe("connected");
    expect((await tcpReach(l.addresses.balancerService, 80, 2000)).state).toBe("connected");
  });

  it("vip-refused: the VIP is on the balancer, its port refuses; Apache answers on the balancer's own address", async () => {
    const l = lab("vip-refused");
    expect((await l.hostExec("balancer", "ip -4 -o addr show dev eth0")).stdout).toContain(`${l.addresses.vip}/`);
    expect((await tcpReach(l.addresses.vip, 80, 2000)).state).toBe("refused");
    expect((await tcpReach(l.addresses.balancerService, 80, 2000)).state).toBe("connected");
  });

  it("vip-silent: the balancer drops port 80, its SSH answers", async () => {
    const l = lab("vip-silent");
    expect((await l.hostExec("balancer", "nft list chain inet filter input")).stdout).toMatch(/tcp dport 80 drop/);
    expect((await tcpReach(l.addresses.vip, 80, 1500)).state).toBe("timeout");
    expect((await tcpReach(l.addresses.balancerService, 80, 1500)).state).toBe("timeout");
    expect((await tcpReach(l.addresses.balancerService, 22, 2000)).state).toBe("connected");
  });

  it("single-server-cheat: both pages through the VIP, all from webserver1", async () => {
    const l = lab("single-server-cheat");
    expect(countBackends(await getMany(l.addresses.vip, 8))).toEqual({ "1": 6, "2": 2 });
    expect((await l.hostExec("ws2", "pgrep -x apache2")).code).toBe(1);
    const site = await l.hostExec("balancer", "cat /etc/apache2/sites-enabled/proxy-inverso.conf");
    expect(site.stdout).toContain(`BalancerMember http://${l.addresses.webservers.ws1}:8080 loadfactor=1 route=wsrv2`);
    const fromBalancer = await l.hostExec(
      "balancer",
      `curl -s -m 2 http://${l.addresses.webservers.ws2}/; echo " rc=$?"`,
    );
    expect(fromBalancer.stdout).toContain("rc=7");
  });
});
