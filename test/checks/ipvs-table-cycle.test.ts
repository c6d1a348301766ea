/**
 * The scheduler cycle the running IPVS table allows bounds what the ratio decider must tell
 * apart (checks/lvs/ipvs.ts tableCycle): rr one request per usable server, wrr Σ weight/gcd.
 */
import { describe, expect, it } from "vitest";
import { tableCycle } from "../../checks/lvs/ipvs.js";
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
