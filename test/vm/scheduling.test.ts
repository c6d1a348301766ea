/**
 * The scheduling variants behave as named, on a real IPVS: rr alternates per new connection,
 * wrr 3:1 splits 12 connections 9:3, the wrong-weight and ignored-weight variants do not, a
 * missing real server is never reached, and a stopped keepalived leaves no ip_vs and a
 * refusing VIP. One VM; variants are switched by reloading keepalived: between variants that
 * keep it running, the same keepalived process (same PID) takes each new configuration.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startVmLab, type VmLab } from "../../fixtures/vm/index.js";
import { countBackends, getPage, samplePages } from "./helpers.js";

describe("LVS lab scheduling variants", () => {
  let lab: VmLab;
  /** keepalived's main process as the lab booted it. */
  let bootPid: number | null;

  /** The PID in keepalived's pid file, when that process is alive; null otherwise. */
  async function keepalivedPid(): Promise<number | null> {
    const result = await lab.directorExec("pid=$(cat /run/keepalived.pid) && kill -0 \"$pid\" && echo \"$pid\"");
    const pid = Number(result.stdout.trim());
    return result.code === 0 && Number.isInteger(pid) && pid > 1 ? pid : null;
  }

  beforeAll(async () => {
    lab = await startVmLab({ variant: "rr" });
    bootPid = await keepalivedPid();
  }, 300_000);

  afterAll(async () => {
    await lab?.stop();
  }, 60_000);

  it("rr: each new connection goes to the other web server", async () => {
    expect(bootPid).toEqual(expect.any(Number));
    expect(await lab.readIpvsTable()).toEqual({
      scheduler: "rr",
      persistenceTimeout: null,
      realServers: { webserver1: 1, webserver2: 1 },
    });
    const sequence = (await samplePages(lab, 12)).map((page) => page.backend);
    expect(sequence).not.toContain(null);
    for (let k = 1; k < sequence.length; k++) expect(sequence[k]).not.toBe(sequence[k - 1]);
  });

  it("wrr-3-1: 12 new connections split 9:3, webserver2 every fourth", async () => {
    await lab.setVariant("wrr-3-1");
    // A reload (SIGHUP), not a restart: the same process now runs the new configuration.
    expect(await keepalivedPid()).toBe(bootPid);
    expect(await lab.readIpvsTable()).toEqual({
      scheduler: "wrr",
      persistenceTimeout: null,
      realServers: { webserver1: 3, webserver2: 1 },
    });
    expect(lab.spec.backends.map((backend) => backend.weight)).toEqual([3, 1]);
    const pages = await samplePages(lab, 12);
    expect(countBackends(pages)).toEqual({ webserver1: 9, webserver2: 3 });
    const sequence = pages.map((page) => page.backend);
    const second = sequence.flatMap((backend, position) => (backend === "webserver2" ? [position] : []));
    expect(second[1]! - second[0]!).toBe(4);
    expect(second[2]! - second[1]!).toBe(4);
  });

  it("wrr-1-1: wrr with equal weights splits 6:6 where the spec asks for 3:1", async () => {
    await lab.setVariant("wrr-1-1");
    expect(await keepalivedPid()).toBe(bootPid);
    expect(await lab.readIpvsTable()).toEqual({
      scheduler: "wrr",
      persistenceTimeout: null,
      realServers: { webserver1: 1, webserver2: 1 },
    });
    expect(lab.spec.expect.lbAlgo).toBe("wrr");
    expect(lab.spec.backends.map((backend) => backend.weight)).toEqual([3, 1]);
    expect(countBackends(await samplePages(lab, 12))).toEqual({ webserver1: 6, webserver2: 6 });
  });

  it("rr-with-weights: ipvsadm shows weights 3 and 1, yet rr alternates", async () => {
    await lab.setVariant("rr-with-weights");
    expect(await keepalivedPid()).toBe(bootPid);
    expect(await lab.readIpvsTable()).toEqual({
      scheduler: "rr",
      persistenceTimeout: null,
      realServers: { webserver1: 3, webserver2: 1 },
    });
    const sequence = (await samplePages(lab, 12)).map((page) => page.backend);
    expect(sequence).not.toContain(null);
    for (let k = 1; k < sequence.length; k++) expect(sequence[k]).not.toBe(sequence[k - 1]);
  });

  it("missing-real-server: only webserver1 is in the table and answers", async () => {
    await lab.setVariant("missing-real-server");
    expect(await keepalivedPid()).toBe(bootPid);
    expect(await lab.readIpvsTable()).toEqual({
      scheduler: "rr",
      persistenceTimeout: null,
      realServers: { webserver1: 1 },
    });
    expect(countBackends(await samplePages(lab, 6))).toEqual({ webserver1: 6, webserver2: 0 });
    // webserver2 itself is healthy: the configuration is what is missing.
    expect((await lab.webserverExec("webserver2", "service apache2 status")).stdout).toContain("is running");
  });

  it("keepalived-stopped: no keepalived, no ip_vs modules, and the VIP refuses connections", async () => {
    await lab.setVariant("keepalived-stopped");
    const state = await lab.directorExec("pidof keepalived || echo no-keepalived; lsmod");
    expect(state.stdout).toContain("no-keepalived");
    expect(state.stdout).not.toMatch(/^ip_vs/m);
    expect(await keepalivedPid()).toBeNull();
    const page = await getPage(lab.addresses.vip);
    expect(page).toMatchObject({ backend: null, error: "ECONNREFUSED" });
  });

  it("back to rr after keepalived-stopped: keepalived starts and the schedulers are loaded", async () => {
    await lab.setVariant("rr");
    // keepalived was stopped, so this switch starts a new one.
    const restarted = await keepalivedPid();
    expect(restarted).toEqual(expect.any(Number));
    expect(restarted).not.toBe(bootPid);
    const modules = await lab.directorExec("lsmod");
    expect(modules.stdout).toMatch(/^ip_vs_rr /m);
    expect(modules.stdout).toMatch(/^ip_vs_wrr /m);
    expect(countBackends(await samplePages(lab, 4))).toEqual({ webserver1: 2, webserver2: 2 });
  });
});
