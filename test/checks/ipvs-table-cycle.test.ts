/**
 * The scheduler cycle the running IPVS table allows bounds what the ratio decider must tell
 * apart (checks/lvs/ipvs.ts tableCycle): rr one request per usable server, wrr Σ weight/gcd.
 */
import { describe, expect, it } from "vitest";
import { labVipOf, tableCycle } from "../../checks/lvs/ipvs.js";
import type { LabSpec } from "../../src/config/schema.js";
import { trafficAgainstTable } from "../../checks/lvs/weights.js";
import { parseIpvsadmList, type IpvsService } from "../../src/inspect/index.js";

function service(scheduler: string, weights: number[]): IpvsService | undefined {
  const lines = [
    "IP Virtual Server version 1.2.1 (size=4096)",
    "Prot LocalAddress:Port Scheduler Flags",
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
    `TCP  10.0.0.1:80 ${scheduler}`,
    ...weights.map((w, i) => `  -> 10.1.0.${i + 11}:80              Masq    ${w}      0          0`),
  ];
  return parseIpvsadmList(lines.join("\n")).services[0];
}

describe("tableCycle", () => {
  it("wrr turns in Σ weight/gcd requests, rr in one per server with weight above 0", () => {
    expect(tableCycle(service("wrr", [3, 1]))).toBe(4);
    expect(tableCycle(service("wrr", [6, 2]))).toBe(4);
    expect(tableCycle(service("wrr", [14, 39]))).toBe(53);
    expect(tableCycle(service("rr", [3, 1]))).toBe(2);
    expect(tableCycle(service("rr", [1, 0, 1]))).toBe(2);
  });

  it("says nothing for other schedulers, no servers or no table", () => {
    expect(tableCycle(service("wlc", [3, 1]))).toBeUndefined();
    expect(tableCycle(service("wrr", [0, 0]))).toBeUndefined();
    expect(tableCycle(service("wrr", []))).toBeUndefined();
    expect(tableCycle(undefined)).toBeUndefined();
  });
});

describe("traffic against the running configuration (lvs.weights)", () => {
  it("a failed sample with the table read says the traffic disagrees with ipvsadm -Ln", () => {
    const said = trafficAgainstTable("wrr", "3:1");
    expect(said.en).toContain("The traffic disagrees with the configuration: ipvsadm -Ln shows wrr with weights 3:1.");
    expect(said.es).toContain("El tráfico no coincide con la configuración: ipvsadm -Ln muestra wrr con pesos 3:1.");
  });

  it("says nothing without the table", () => {
    expect(trafficAgainstTable(undefined, undefined)).toEqual({ es: "", en: "" });
    expect(trafficAgainstTable("wrr", undefined)).toEqual({ es: "", en: "" });
  });
});

describe("the VIP as the balancer holds it (labVipOf)", () => {
  const table = (...services: string[]) =>
    parseIpvsadmList(
      [
        "IP Virtual Server version 1.2.1 (size=4096)",
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
        ...services.flatMap((s) => [`TCP  ${s} wrr persistent 1200`, "  -> 10.1.0.11:80              Masq    3      0          0"]),
      ].join("\n"),
    );
  const spec = (vip: LabSpec["vip"]) => ({ vip }) as LabSpec;
  const loopback = { address: "127.0.0.1", port: 8080, path: "/" };

  it("is the spec's VIP when that is not loopback, whatever the table holds", () => {
    expect(labVipOf(spec({ address: "10.0.0.10", port: 80, path: "/" }), table("10.0.0.99:80"))).toEqual({ address: "10.0.0.10", port: 80, how: "spec" });
  });

  it("is vip.forwardsTo when the spec names it, even with several services", () => {
    const named = spec({ ...loopback, forwardsTo: { address: "10.0.0.10", port: 80 } });
    expect(labVipOf(named, table("10.0.0.10:80", "10.0.0.20:80"))).toEqual({ address: "10.0.0.10", port: 80, how: "forwardsTo" });
  });

  it("behind a loopback forward is the table's one TCP service, and ambiguous with none or several", () => {
    expect(labVipOf(spec(loopback), table("10.0.0.10:80"))).toEqual({ address: "10.0.0.10", port: 80, how: "only-service" });
    expect(labVipOf(spec(loopback), table("10.0.0.10:80", "10.0.0.20:80")).how).toBe("ambiguous");
    expect(labVipOf(spec(loopback), table()).how).toBe("ambiguous");
    expect(labVipOf(spec(loopback), undefined).how).toBe("ambiguous");
  });

  it("is the spec's loopback VIP when the table serves on it (a balancer on one machine)", () => {
    expect(labVipOf(spec(loopback), table("127.0.0.1:8080", "10.0.0.20:80"))).toEqual({ address: "127.0.0.1", port: 8080, how: "spec" });
  });
});
