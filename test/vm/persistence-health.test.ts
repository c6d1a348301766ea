/**
 * The persistence and health-check variants behave as named, on a real IPVS and keepalived:
 * persistence pins each client address to one web server and shows ASSURED templates with
 * client port 0 in `ipvsadm -Lnc`; HTTP_GET keeps a server whose page is wrong (or whose
 * digest is) out of the pool, TCP_CHECK does not. One VM; variants switched by reloading.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startVmLab, type BackendName, type VmLab } from "../../fixtures/vm/index.js";
import { countBackends, getPage, samplePages, waitUntil } from "./helpers.js";

/** `ipvsadm -Lnc` persistence templates (client port 0) by client address. */
async function persistenceTemplates(lab: VmLab): Promise<Map<string, { expiresS: number; destination: string }>> {
  const listing = await lab.directorExec("ipvsadm -Lnc");
  const templates = new Map<string, { expiresS: number; destination: string }>();
  for (const match of listing.stdout.matchAll(/^TCP\s+(\d+):(\d+)\s+ASSURED\s+(\S+):0\s+\S+\s+(\S+)$/gm)) {
    templates.set(match[3] ?? "", {
      expiresS: Number(match[1]) * 60 + Number(match[2]),
      destination: match[4] ?? "",
    });
  }
  return templates;
}

/** Each of `clients` opens `perClient` new connections; returns what each one reached. */
async function reachedByClient(lab: VmLab, clients: string[], perClient: number): Promise<Map<string, Set<BackendName | null>>> {
  const reached = new Map<string, Set<BackendName | null>>();
  for (const client of clients) {
    const pages = await samplePages(lab, perClient, client);
    reached.set(client, new Set(pages.map((page) => page.backend)));
  }
  return reached;
}

const brokenPage = "<html><body><h1>Error 500</h1></body></html>";

describe("LVS lab persistence and health-check variants", () => {
  let lab: VmLab;

  beforeAll(async () => {
    lab = await startVmLab({ variant: "persistence-1200" });
  }, 300_000);

  afterAll(async () => {
    await lab?.stop();
  }, 60_000);

  it("persistence-1200: every client stays on one web server, with a 20-minute template", async () => {
    expect(await lab.readIpvsTable()).toMatchObject({ scheduler: "rr", persistenceTimeout: 1200 });
    const clients = lab.addresses.clients.slice(0, 4);
    const reached = await reachedByClient(lab, clients, 4);
    const servers = new Set<BackendName | null>();
    for (const client of clients) {
      const seen = reached.get(client);
      expect(seen?.size, `client ${client} reached ${[...(seen ?? [])].join(", ")}`).toBe(1);
      for (const backend of seen ?? []) servers.add(backend);
    }
    // Templates are scheduled round robin, so four clients use both servers.
    expect(servers).toEqual(new Set(["webserver1", "webserver2"]));
    const templates = await persistenceTemplates(lab);
    for (const client of clients) {
      const template = templates.get(client);
      expect(template, `no ASSURED template for ${client}`).toBeDefined();
      expect(template!.expiresS).toBeGreaterThan(15 * 60);
      expect(template!.expiresS).toBeLessThanOrEqual(20 * 60);
      const backend = [...reached.get(client)!][0] as BackendName;
      expect(template!.destination).toBe(`${lab.addresses.backends[backend]}:80`);
    }
  });

  it("persistence-300: still sticky, but the template lasts 5 minutes", async () => {
    await lab.setVariant("persistence-300");
    expect(await lab.readIpvsTable()).toMatchObject({ persistenceTimeout: 300 });
    expect(lab.spec.expect.persistenceTimeout).toBe(1200);
    const clients = lab.addresses.clients.slice(10, 12);
    const reached = await reachedByClient(lab, clients, 3);
    for (const client of clients) expect(reached.get(client)?.size).toBe(1);
    const templates = await persistenceTemplates(lab);
    for (const client of clients) {
      expect(templates.get(client)?.expiresS).toBeGreaterThan(0);
      expect(templates.get(client)?.expiresS).toBeLessThanOrEqual(300);
    }
  });

  it("persistence-0: keepalived rejects the 0, so one client alternates between servers", async () => {
    await lab.setVariant("persistence-0");
    expect(await lab.readIpvsTable()).toEqual({
      scheduler: "rr",
      persistenceTimeout: null,
      realServers: { webserver1: 1, webserver2: 1 },
    });
    const client = lab.addresses.clients[20];
    const sequence = (await samplePages(lab, 6, client)).map((page) => page.backend);
    for (let k = 1; k < sequence.length; k++) expect(sequence[k]).not.toBe(sequence[k - 1]);
    expect((await persistenceTemplates(lab)).has(client ?? "")).toBe(false);
    const log = await lab.directorExec("grep -c \"number '0' outside range\" /var/log/syslog");
    expect(Number(log.stdout)).toBeGreaterThan(0);
  });

  it("http-get-correct: both servers are in, each digest is its page's MD5, a wrong page is taken out", async () => {
    await lab.setVariant("http-get-correct");
    const config = (await lab.directorExec("cat /etc/keepalived/keepalived.conf")).stdout;
    const digests = [...config.matchAll(/digest ([0-9a-f]{32})/g)].map((match) => match[1]);
    for (const [position, name] of (["webserver1", "webserver2"] as const).entries()) {
      const page = await lab.webserverExec(name, "md5sum /var/www/html/index.html");
      expect(page.stdout.slice(0, 32)).toBe(digests[position]);
    }
    try {
      await lab.webserverExec("webserver1", `cp /var/www/html/index.html /tmp/index.html && echo '${brokenPage}' >/var/www/html/index.html`);
      const table = await waitUntil(() => lab.readIpvsTable(), (t) => t?.realServers.webserver1 === undefined, 20_000);
      expect(table?.realServers).toEqual({ webserver2: 1 });
      expect(countBackends(await samplePages(lab, 4))).toEqual({ webserver1: 0, webserver2: 4 });
    } finally {
      await lab.webserverExec("webserver1", "cp /tmp/index.html /var/www/html/index.html");
    }
    const back = await waitUntil(() => lab.readIpvsTable(), (t) => t?.realServers.webserver1 !== undefined, 20_000);
    expect(back?.realServers).toEqual({ webserver1: 1, webserver2: 1 });
  });

  it("http-get-wrong-digest: webserver2 never joins the pool although its Apache is fine", async () => {
    await lab.setVariant("http-get-wrong-digest");
    const config = (await lab.directorExec("cat /etc/keepalived/keepalived.conf")).stdout;
    const digests = [...config.matchAll(/digest ([0-9a-f]{32})/g)].map((match) => match[1]);
    expect(digests).toHaveLength(2);
    expect(digests[1]).toBe(digests[0]);
    // Over several delay_loops (3 s), webserver2 stays out and the VIP only serves webserver1.
    for (let round = 0; round < 3; round++) {
      expect(await lab.readIpvsTable()).toEqual({ scheduler: "rr", persistenceTimeout: null, realServers: { webserver1: 1 } });
      expect(countBackends(await samplePages(lab, 2))).toEqual({ webserver1: 2, webserver2: 0 });
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
    const direct = await lab.directorExec(
      `exec 3<>/dev/tcp/${lab.addresses.backends.webserver2}/80 && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && head -n1 <&3`,
    );
    expect(direct.stdout).toMatch(/^HTTP\/1\.1 200 OK/);
  });

  it("tcp-check-only: a web server serving a wrong page stays in the pool", async () => {
    await lab.setVariant("tcp-check-only");
    try {
      await lab.webserverExec("webserver1", `cp /var/www/html/index.html /tmp/index.html && echo '${brokenPage}' >/var/www/html/index.html`);
      // Longer than two delay_loops: an HTTP_GET checker would have removed it by then.
      await new Promise((resolve) => setTimeout(resolve, 8000));
      expect((await lab.readIpvsTable())?.realServers).toEqual({ webserver1: 1, webserver2: 1 });
      const pages = await samplePages(lab, 4);
      expect(pages.filter((result) => result.backend === null && result.status === 200)).toHaveLength(2);
    } finally {
      await lab.webserverExec("webserver1", "cp /tmp/index.html /var/www/html/index.html");
    }
    expect((await getPage(lab.addresses.vip)).status).toBe(200);
  });
});
