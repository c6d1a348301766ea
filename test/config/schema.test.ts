import { describe, expect, it } from "vitest";
import { closestName, editDistance } from "../../src/config/problems.js";
import { captureGroupCount, labSpecSchema, resolveSshTargets, type LabSpec, type LabSpecInput } from "../../src/config/schema.js";
import { WINDOWS_AGENT_PIPE } from "../../src/config/targets.js";

const minimal: LabSpecInput = {
  lab: "alumno-01",
  vip: { address: "192.168.0.10" },
  balancer: { internalAddress: "192.168.100.1" },
  backends: [
    { name: "webserver1", address: "192.168.100.11" },
    { name: "webserver2", address: "192.168.100.12" },
  ],
};

function parse(input: unknown): LabSpec {
  const result = labSpecSchema.safeParse(input);
  if (!result.success) throw new Error(JSON.stringify(result.error.issues));
  return result.data;
}

function issuePaths(input: unknown): string[] {
  const result = labSpecSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((issue) => issue.path.join("."));
}

describe("lab spec schema", () => {
  it("fills every default of a minimal spec", () => {
    const spec = parse(minimal);
    expect(spec.version).toBe(1);
    expect(spec.lang).toBe("es");
    expect(spec.part).toBe("auto");
    expect(spec.step).toBeUndefined();
    expect(spec.vip).toEqual({ address: "192.168.0.10", port: 80, path: "/" });
    expect(spec.grader).toEqual({ sourceAddresses: [], natTarget: {} });
    expect(spec.identity).toEqual({ pattern: "Bienvenido a webserver(\\d+)", flags: "i" });
    expect(spec.expect).toEqual({ persistenceTimeout: 1200, cookieName: "ROUTEID" });
    // user, port, agent and knownHosts are left unset: ssh_config comes before their defaults (config/targets.ts).
    expect(spec.ssh).toEqual({ hostKeys: {}, sudo: "auto" });
    expect(spec.rubric).toEqual({ points: {} });
    expect(spec.timeouts).toEqual({ connect: 3000, request: 5000, ssh: 10_000, failover: 30_000, rejoin: 90_000 });
    expect(spec.sampling).toEqual({ maxRequests: 400, ratePerSecond: 200 });
    expect(spec.balancer.ssh).toBeUndefined();
    const [first, second] = spec.backends;
    expect(first).toMatchObject({ port: 80, loadfactor: 1, identity: "1", route: "wsrv1", pagePath: "/var/www/html/index.html", service: {} });
    expect(second).toMatchObject({ identity: "2", route: "wsrv2" });
  });

  it("derives identities from the position when names end without digits, and routes from identities", () => {
    const spec = parse({ ...minimal, backends: [
      { name: "alpha", address: "10.0.0.1" },
      { name: "beta", address: "10.0.0.2", identity: 9 },
      { name: "gamma", address: "10.0.0.3", route: "g" },
    ] });
    expect(spec.backends.map((backend) => [backend.identity, backend.route])).toEqual([["1", "wsrv1"], ["9", "wsrv9"], ["3", "g"]]);
  });

  it("reads null as absent, as the contract writes it", () => {
    const spec = parse({ ...minimal, vip: { address: "192.168.0.10", host: null }, step: null, expect: { lbAlgo: null } });
    expect(spec.vip.host).toBeUndefined();
    expect(spec.step).toBeUndefined();
    expect(spec.expect.lbAlgo).toBeUndefined();
  });

  it("rejects unknown fields at every level", () => {
    expect(issuePaths({ ...minimal, extra: 1 })).toEqual([""]);
    expect(issuePaths({ ...minimal, vip: { address: "192.168.0.10", adress: "x" } })).toEqual(["vip"]);
    expect(issuePaths({ ...minimal, ssh: { password: { env: "X", file: "y" } } })).toEqual(["ssh.password"]);
  });

  it("refuses identities and routes two backends would share", () => {
    expect(issuePaths({ ...minimal, backends: [
      { name: "webserver1", address: "10.0.0.1", identity: "1" },
      { name: "webserver2", address: "10.0.0.2", identity: "1", route: "other" },
    ] })).toEqual(["backends.1.identity"]);
    expect(issuePaths({ ...minimal, backends: [
      { name: "webserver1", address: "10.0.0.1", route: "same" },
      { name: "webserver2", address: "10.0.0.2", route: "same" },
    ] })).toEqual(["backends.1.route"]);
  });

  it("refuses a derived route Apache could not use", () => {
    expect(issuePaths({ ...minimal, backends: [
      { name: "webserver1", address: "10.0.0.1", identity: "web one" },
      { name: "webserver2", address: "10.0.0.2" },
    ] })).toEqual(["backends.0.route"]);
  });

  it("bounds numbers: ports, weights, loadfactors, timeouts, sampling", () => {
    expect(issuePaths({ ...minimal, vip: { address: "192.168.0.10", port: 0 } })).toEqual(["vip.port"]);
    expect(issuePaths({ ...minimal, backends: [{ name: "a1", address: "10.0.0.1", weight: 0 }, { name: "a2", address: "10.0.0.2", loadfactor: 101 }] }))
      .toEqual(["backends.0.weight", "backends.1.loadfactor"]);
    expect(issuePaths({ ...minimal, timeouts: { rejoin: 3_600_001 } })).toEqual(["timeouts.rejoin"]);
    expect(issuePaths({ ...minimal, sampling: { maxRequests: 10_001, ratePerSecond: 0 } })).toEqual(["sampling.maxRequests", "sampling.ratePerSecond"]);
    expect(issuePaths({ ...minimal, expect: { persistenceTimeout: -1 } })).toEqual(["expect.persistenceTimeout"]);
  });

  it("checks addresses, host names, fingerprints and flags", () => {
    expect(issuePaths({ ...minimal, vip: { address: "0.0.0.0" } })).toEqual(["vip.address"]);
    expect(issuePaths({ ...minimal, balancer: { internalAddress: "192.168.100.1", ssh: { host: "192.168.0.300" } } })).toEqual(["balancer.ssh.host"]);
    expect(issuePaths({ ...minimal, balancer: { internalAddress: "192.168.100.1", ssh: { host: "balancer.lab.example" } } })).toEqual([]);
    expect(issuePaths({ ...minimal, ssh: { hostKeys: { "10.0.0.1": "SHA256:short" } } })).toEqual(["ssh.hostKeys.10.0.0.1"]);
    expect(issuePaths({ ...minimal, identity: { flags: "g" } })).toEqual(["identity.flags"]);
    expect(issuePaths({ ...minimal, identity: { flags: "uv" } })).toEqual(["identity.flags"]);
  });

  it("refuses more web servers than a lab has, and the reserved name balancer", () => {
    const many = Array.from({ length: 33 }, (_, index) => ({ name: `ws${index}`, address: `10.0.0.${index + 1}` }));
    expect(issuePaths({ ...minimal, backends: many })).toEqual(["backends"]);
    expect(issuePaths({ ...minimal, backends: [{ name: "balancer", address: "10.0.0.1" }, { name: "ws2", address: "10.0.0.2" }] }))
      .toEqual(["backends.0.name"]);
  });
});

describe("regular expression helpers", () => {
  it("counts capturing groups only", () => {
    expect(captureGroupCount("Bienvenido a webserver(\\d+)")).toBe(1);
    expect(captureGroupCount("(?:a)(b)")).toBe(1);
    expect(captureGroupCount("(?<id>a)(b)")).toBe(2);
    expect(captureGroupCount("\\(a\\)[(]")).toBe(0);
    expect(captureGroupCount("a|(b)", "i")).toBe(1);
  });
});

describe("did-you-mean", () => {
  it("measures edits, counting a swap of neighbours as one", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("adress", "address")).toBe(1);
    expect(editDistance("ab", "ba")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
  });

  it("suggests near misses, ignoring case and the keepalived spelling", () => {
    expect(closestName("adress", ["address", "port", "path"])).toBe("address");
    expect(closestName("persistence_timeout", ["lbAlgo", "persistenceTimeout", "cookieName"])).toBe("persistenceTimeout");
    expect(closestName("Address", ["address"])).toBe("address");
    expect(closestName("hostname", ["address", "port"])).toBeUndefined();
  });
});

describe("resolveSshTargets", () => {
  /** No ssh_config, no agent and no usual key files: only what the spec says, and the defaults. */
  const hermetic = { env: {}, platform: "linux" as const, homeDir: "/home/ana", sshConfig: false as const, fileExists: () => false };
  const withSsh = (extra: Partial<LabSpecInput>): LabSpec => parse({ ...minimal, ...extra });

  it("gives no targets at all without balancer.ssh", () => {
    expect(resolveSshTargets(withSsh({ ssh: { privateKey: "/k" } }))).toEqual([]);
  });

  it("applies the inheritance rules: defaults, host = address, jump through the balancer", () => {
    const spec = withSsh({
      balancer: { internalAddress: "192.168.100.1", ssh: { host: "192.168.0.2" } },
      ssh: { privateKey: "/keys/id", passphrase: { env: "PASS" }, hostKeys: { "192.168.0.2": "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s" } },
    });
    const targets = resolveSshTargets(spec, hermetic);
    expect(targets).toEqual([
      { name: "balancer", host: "192.168.0.2", port: 22, user: "root", privateKeyPath: "/keys/id", passphrase: { env: "PASS" }, knownHostsPath: "/home/ana/.ssh/known_hosts", hostKey: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s", sudo: false },
      { name: "webserver1", host: "192.168.100.11", port: 22, user: "root", privateKeyPath: "/keys/id", passphrase: { env: "PASS" }, knownHostsPath: "/home/ana/.ssh/known_hosts", jump: "balancer", sudo: false },
      { name: "webserver2", host: "192.168.100.12", port: 22, user: "root", privateKeyPath: "/keys/id", passphrase: { env: "PASS" }, knownHostsPath: "/home/ana/.ssh/known_hosts", jump: "balancer", sudo: false },
    ]);
  });

  it("lets a backend override user, port, host and jump; sudo follows the user under auto", () => {
    const spec = withSsh({
      balancer: { internalAddress: "192.168.100.1", ssh: {} },
      backends: [
        { name: "webserver1", address: "192.168.100.11", ssh: { user: "alumno", port: 2222, host: "192.168.0.11", jump: "none", password: "pw" } },
        { name: "webserver2", address: "192.168.100.12" },
      ],
    });
    const [balancer, first, second] = resolveSshTargets(spec, hermetic);
    expect(balancer?.host).toBe("192.168.0.10");
    expect(first).toEqual({ name: "webserver1", host: "192.168.0.11", port: 2222, user: "alumno", password: "pw", knownHostsPath: "/home/ana/.ssh/known_hosts", sudo: true });
    expect(second?.jump).toBe("balancer");
    expect(second?.sudo).toBe(false);
  });

  it("defaults the balancer's host to its service address, then to the VIP", () => {
    const spec = withSsh({ balancer: { internalAddress: "192.168.100.1", serviceAddress: "192.168.0.2", ssh: {} } });
    expect(resolveSshTargets(spec)[0]?.host).toBe("192.168.0.2");
  });

  it("resolves sudo always/never regardless of the user", () => {
    const always = withSsh({ balancer: { internalAddress: "192.168.100.1", ssh: {} }, ssh: { sudo: "always" } });
    expect(resolveSshTargets(always).every((target) => target.sudo)).toBe(true);
    const never = withSsh({ balancer: { internalAddress: "192.168.100.1", ssh: {} }, ssh: { sudo: "never", user: "alumno" } });
    expect(resolveSshTargets(never).some((target) => target.sudo)).toBe(false);
  });

  it("resolves agent: true to SSH_AUTH_SOCK, or to the Windows agent pipe", () => {
    const spec = withSsh({ balancer: { internalAddress: "192.168.100.1", ssh: {} }, ssh: { agent: true } });
    expect(resolveSshTargets(spec, { env: { SSH_AUTH_SOCK: "/tmp/agent.sock" }, platform: "linux" })[0]?.agent).toBe("/tmp/agent.sock");
    expect(resolveSshTargets(spec, { env: {}, platform: "win32" })[0]?.agent).toBe(WINDOWS_AGENT_PIPE);
    expect(resolveSshTargets(spec, { env: {}, platform: "linux" })[0]?.agent).toBeUndefined();
  });
});
