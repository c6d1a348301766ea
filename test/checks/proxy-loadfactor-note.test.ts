/**
 * What proxy.loadfactor reads from the balancer's site files (checks/proxy/apache-members.ts)
 * and what it says beside the traffic's verdict. The same on a real lab:
 * proxy-loadfactor-config.test.ts.
 */
import { describe, expect, it } from "vitest";
import { loadfactorsOf, parseSiteFiles } from "../../checks/proxy/apache-members.js";
import { configurationNote } from "../../checks/proxy/loadfactor.js";

const site = (a: number, b: number) =>
  ["<Proxy balancer://micluster>", `  BalancerMember http://10.1.0.11 loadfactor=${a} route=w1`, `  BalancerMember http://10.1.0.12 loadfactor=${b} route=w2`, "</Proxy>"].join("\n");
const line = (path: string, text: string) => `${path}\t${Buffer.from(text).toString("base64")}`;
const backends = [
  { name: "webserver1", address: "10.1.0.11", port: 80 },
  { name: "webserver2", address: "10.1.0.12", port: 80 },
];

describe("what the balancer's site files give", () => {
  it("the balancer whose members are the spec's backends, in the spec's order", () => {
    const files = parseSiteFiles([line("/etc/apache2/sites-enabled/000-default.conf", "<VirtualHost *:80>\n</VirtualHost>"), line("/etc/apache2/sites-enabled/proxy.conf", site(6, 2))].join("\n"));
    expect(loadfactorsOf(files, backends)).toEqual({ ratio: "3:1", where: "/etc/apache2/sites-enabled/proxy.conf:2" });
    expect(loadfactorsOf(files, [...backends].reverse())).toMatchObject({ ratio: "1:3" });
    expect(loadfactorsOf(files, [{ name: "x", address: "10.1.0.99", port: 80 }, backends[1]!])).toBeUndefined();
  });

  it("leaves out what is not a path and base64, and says nothing from nothing", () => {
    expect(parseSiteFiles("")).toEqual([]);
    expect(parseSiteFiles("bash: base64: command not found\n\u0000\u0001garbage\t@@@\n../etc/x\tAAAA")).toEqual([]);
    expect(loadfactorsOf(parseSiteFiles("Permission denied"), backends)).toBeUndefined();
  });

  it("a note only with the configuration read, naming agreement or disagreement", () => {
    const where = "/etc/apache2/sites-enabled/proxy.conf:7";
    expect(configurationNote(undefined, "3:1", "fail")).toEqual({ es: "", en: "", configAgrees: false });
    expect(configurationNote({ ratio: "3:1", where }, "3:1", "pass").en).toContain("The configuration agrees");
    expect(configurationNote({ ratio: "3:1", where }, "3:1", "fail")).toMatchObject({ configAgrees: true, en: expect.stringContaining("The traffic disagrees with the configuration") });
    expect(configurationNote({ ratio: "1:1", where }, "3:1", "pass").en).toContain("The traffic disagrees with the configuration");
    expect(configurationNote({ ratio: "1:1", where }, "3:1", "fail").en).toContain("The configuration gives loadfactor 1:1");
  });
});
