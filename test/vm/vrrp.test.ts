/**
 * Two directors sharing the VIP by VRRP (what keepalived is for): director1 is MASTER, director2
 * BACKUP with the same IPVS service; stopping keepalived on director1 moves the VIP and the web
 * servers' gateway to director2, which keeps serving both web servers; starting it again takes
 * them back. One VM; the directors are namespaces of it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startVmLab, type VmLab } from "../../fixtures/vm/index.js";
import { LabSsh, countBackends, getPage, samplePages, waitUntil } from "./helpers.js";

describe("LVS lab with two directors (VRRP)", () => {
  let lab: VmLab;

  beforeAll(async () => {
    lab = await startVmLab({ variant: "rr", directors: 2 });
  }, 300_000);

  afterAll(async () => {
    await lab?.stop();
  }, 60_000);

  it("has director1 holding the VIP and the gateway, and both directors the IPVS service", async () => {
    expect(await lab.vipHolder()).toBe("director1");
    const gateway = await lab.machineExec("director1", "ip -4 -o addr show dev eth1");
    expect(gateway.stdout).toContain(` ${lab.addresses.directorInternal}/24 `);
    const backup = await lab.machineExec("director2", "ip -4 -o addr show");
    expect(backup.stdout).not.toContain(` ${lab.addresses.vip}/`);
    expect(backup.stdout).not.toContain(` ${lab.addresses.directorInternal}/`);
    for (const director of ["director1", "director2"] as const) {
      expect(await lab.readIpvsTable(director)).toEqual({
        scheduler: "rr",
        persistenceTimeout: null,
        realServers: { webserver1: 1, webserver2: 1 },
      });
    }
    expect(countBackends(await samplePages(lab, 4))).toEqual({ webserver1: 2, webserver2: 2 });
  });

  it("lets the grader in by SSH on each director's own address", async () => {
    for (const [address, name] of [
      [lab.addresses.director, "director1"],
      [lab.addresses.backupDirector, "director2"],
    ] as const) {
      const ssh = await LabSsh.connect(lab, address);
      try {
        expect((await ssh.exec("hostname")).stdout).toBe(`${name}\n`);
      } finally {
        ssh.close();
      }
    }
  });

  it("fails over to director2 when keepalived stops on director1, and back when it starts", async () => {
    const director1 = await LabSsh.connect(lab, lab.addresses.director);
    try {
      expect((await director1.exec("service keepalived stop")).code).toBe(0);
      expect(await waitUntil(() => lab.vipHolder(), (holder) => holder === "director2", 30_000)).toBe("director2");
      const gateway = await lab.machineExec("director2", "ip -4 -o addr show dev eth1");
      expect(gateway.stdout).toContain(` ${lab.addresses.directorInternal}/24 `);
      // The first requests after the move may be lost while ARP caches learn the new owner.
      const first = await waitUntil(() => getPage(lab.addresses.vip), (page) => page.backend !== null, 20_000);
      expect(first.status).toBe(200);
      expect(countBackends(await samplePages(lab, 4))).toEqual({ webserver1: 2, webserver2: 2 });
      // director2's own IPVS carried them: its connection table has the grader's connections.
      const served = await lab.machineExec("director2", "ipvsadm -Lnc");
      expect(served.stdout).toContain(`${lab.addresses.grader}:`);
    } finally {
      await director1.exec("service keepalived start");
      director1.close();
    }
    expect(await waitUntil(() => lab.vipHolder(), (holder) => holder === "director1", 30_000)).toBe("director1");
    const back = await waitUntil(() => getPage(lab.addresses.vip), (page) => page.backend !== null, 20_000);
    expect(back.status).toBe(200);
  });

  it("switches both directors to another variant", async () => {
    await lab.setVariant("wrr-3-1");
    for (const director of ["director1", "director2"] as const) {
      expect((await lab.readIpvsTable(director))?.realServers).toEqual({ webserver1: 3, webserver2: 1 });
    }
    expect(countBackends(await samplePages(lab, 8))).toEqual({ webserver1: 6, webserver2: 2 });
  });
});
