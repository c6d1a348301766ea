/**
 * Every parser of what comes back from a student's machine, fed input built to stall or crash
 * it: thousands of nested blocks, globs of many stars, JSON nested past the stack, very long
 * lines, NUL bytes. Each must answer without throwing, at once, and with the student's problem
 * named, so a broken file is the student's fail and never the grader's error.
 */
import { describe, expect, it } from "vitest";
import {
  apacheIncludesFrom,
  keepalivedIncludesFrom,
  keepalivedModel,
  matchFetchedFiles,
  parseApacheConfig,
  parseApacheConfigtest,
  parseApacheModules,
  parseApacheVhosts,
  parseGenhashOutput,
  parseIpvsadmConnections,
  parseIpvsadmList,
  parseKeepalivedConfig,
  parseKeepalivedConfigtest,
} from "../../src/inspect/index.js";
import { parseFirewall, parseIpForward, parseIpRoute, parseNftJson, parseNftText, parseOsRelease, parseProcessList } from "../../src/inspect/net.js";
import { parseIptables } from "../../src/inspect/firewall-iptables.js";
import { parseMachineFacts } from "../../src/inspect/os.js";

/** Generous on a loaded 2-core machine; what these inputs replaced took minutes or crashed. */
const FAST_MS = 3000;

function timed<T>(work: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = work();
  return { value, ms: performance.now() - started };
}

const deepBraces = (depth: number): string =>
  `virtual_server 10.0.0.10 80 {\n  lb_algo rr\n${"  x {\n".repeat(depth)}${"  }\n".repeat(depth)}  real_server 10.0.0.11 80 {\n  }\n}\n`;

describe("keepalived.conf built to crash the reader", () => {
  it("3000 nested '{' are the student's block-too-deep problem, and the blocks around still read", () => {
    const { value: ast, ms } = timed(() => parseKeepalivedConfig(deepBraces(3000)));
    const model = keepalivedModel(ast);
    expect(ms).toBeLessThan(FAST_MS);
    expect(model.problems.map((problem) => problem.code)).toContain("block-too-deep");
    expect(model.virtualServers).toHaveLength(1);
    // The reader resynchronises after the skipped block: the real_server below it is read.
    expect(model.virtualServers[0]?.realServers.map((server) => server.address)).toEqual(["10.0.0.11"]);
    expect(model.virtualServers[0]?.lbAlgo).toBe("rr");
  });

  it("a correct file nested as deep as the lab needs has no such problem", () => {
    const model = keepalivedModel(parseKeepalivedConfig(deepBraces(3)));
    expect(model.problems.map((problem) => problem.code)).not.toContain("block-too-deep");
  });

  it("nesting spread over include files is bounded too, and 100 000 '{' unclosed still answer", () => {
    const files = [{ path: "/etc/keepalived/deep.conf", text: "y {\n".repeat(5000) }];
    const ast = parseKeepalivedConfig(`a {\ninclude /etc/keepalived/*.conf\n}\n`, { readInclude: keepalivedIncludesFrom(files) });
    expect(ast.problems.map((problem) => problem.code)).toContain("block-too-deep");
    const { ms } = timed(() => keepalivedModel(parseKeepalivedConfig("{\n".repeat(100_000))));
    expect(ms).toBeLessThan(FAST_MS * 2);
  });

  it("an include of 24 stars over long names answers at once", () => {
    const files = [{ path: `/etc/keepalived/${"a".repeat(3000)}`, text: "global_defs {\n}\n" }];
    const { ms } = timed(() =>
      parseKeepalivedConfig(`include /etc/keepalived/${"*".repeat(24)}b\n`, { readInclude: keepalivedIncludesFrom(files) }),
    );
    expect(ms).toBeLessThan(FAST_MS);
    expect(matchFetchedFiles(files, `/etc/keepalived/${"*a".repeat(30)}`)).toHaveLength(1);
  });
});

describe("Apache configuration built to crash the reader", () => {
  it("5000 nested sections are the student's section-too-deep problem, and the balancer around still reads", () => {
    const text =
      `<VirtualHost *:80>\n${"<Location /x>\n".repeat(5000)}${"</Location>\n".repeat(5000)}` +
      `<Proxy balancer://c>\nBalancerMember http://10.0.0.11:80\n</Proxy>\nProxyPass / balancer://c/\n</VirtualHost>\n`;
    const { value: config, ms } = timed(() => parseApacheConfig(text, { file: "/etc/apache2/sites-enabled/p.conf" }));
    expect(ms).toBeLessThan(FAST_MS);
    expect(config.problems.map((problem) => problem.code)).toContain("section-too-deep");
    expect(config.balancers.flatMap((balancer) => balancer.members.map((member) => member.host))).toEqual(["10.0.0.11"]);
  });

  it("an Include of many stars, and sections nested across included files, answer at once", () => {
    const files = [
      { path: `/etc/apache2/sites-enabled/${"a".repeat(3000)}`, text: "<Location />\n".repeat(3000) },
    ];
    const { value: config, ms } = timed(() =>
      parseApacheConfig(`<VirtualHost *:80>\nInclude sites-enabled/${"*".repeat(24)}*\n</VirtualHost>\n`, {
        file: "/etc/apache2/apache2.conf",
        serverRoot: "/etc/apache2",
        readInclude: apacheIncludesFrom(files),
      }),
    );
    expect(ms).toBeLessThan(FAST_MS);
    expect(config.problems.map((problem) => problem.code)).toContain("section-too-deep");
    const { ms: missMs } = timed(() =>
      parseApacheConfig(`Include sites-enabled/${"*".repeat(24)}b\n`, {
        file: "/etc/apache2/apache2.conf",
        serverRoot: "/etc/apache2",
        readInclude: apacheIncludesFrom(files),
      }),
    );
    expect(missMs).toBeLessThan(FAST_MS);
  });
});

describe("command output built to crash the readers", () => {
  const deepJson = `${"[".repeat(200_000)}${"]".repeat(200_000)}`;
  const deepMatch = JSON.stringify({
    nftables: [{ rule: { family: "ip", table: "nat", chain: "postrouting", expr: [{ match: { op: "==", left: {}, right: "X" } }] } }],
  }).replace('"X"', `${"[".repeat(200_000)}${"]".repeat(200_000)}`);
  const longLine = `${"a ".repeat(500_000)}\n`;
  const hostile = [deepJson, deepMatch, longLine, "\u0000".repeat(100_000), "{\n".repeat(50_000), `${"$(id)`;'\n".repeat(10_000)}`];
  const parsers: [string, (text: string) => unknown][] = [
    ["parseNftJson", parseNftJson],
    ["parseNftText", parseNftText],
    ["parseFirewall", parseFirewall],
    ["parseIptables", parseIptables],
    ["parseIpRoute", parseIpRoute],
    ["parseIpForward", parseIpForward],
    ["parseOsRelease", parseOsRelease],
    ["parseProcessList", parseProcessList],
    ["parseMachineFacts", parseMachineFacts],
    ["parseIpvsadmList", parseIpvsadmList],
    ["parseIpvsadmConnections", parseIpvsadmConnections],
    ["parseApacheModules", parseApacheModules],
    ["parseApacheVhosts", parseApacheVhosts],
    ["parseApacheConfigtest", parseApacheConfigtest],
    ["parseKeepalivedConfigtest", parseKeepalivedConfigtest],
    ["parseGenhashOutput", parseGenhashOutput],
  ];
  for (const [name, parse] of parsers) {
    it(`${name} never throws and answers at once on each hostile input`, () => {
      for (const input of hostile) {
        const { ms } = timed(() => parse(input));
        expect(ms, `${name} on ${JSON.stringify(input.slice(0, 20))}`).toBeLessThan(FAST_MS);
      }
    });
  }

  it("an nft match nested past the stack is kept as a short excerpt of evidence", () => {
    const ruleset = parseNftJson(deepMatch);
    const text = ruleset.chains.flatMap((chain) => chain.rules.map((rule) => rule.text)).join("\n");
    expect(text).toContain("nested too deep");
  });
});
