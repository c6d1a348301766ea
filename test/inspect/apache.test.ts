import { describe, expect, it } from "vitest";

import {
  apacheIncludesFrom,
  apacheModuleShortName,
  hasApacheModule,
  parseApacheConfig,
  parseApacheConfigtest,
  parseApacheModules,
  parseApacheVhosts,
} from "../../src/inspect/index.js";
import { captured, fixture } from "./helpers.js";

const SITE = "/etc/apache2/sites-enabled/proxy-inverso.conf";

describe("parseApacheModules on apache2ctl -M of this machine", () => {
  it("lists the default Debian modules and not the proxy ones", () => {
    const { stdout, stderr } = captured("apache2ctl-M.default");
    const modules = parseApacheModules(stdout);
    expect(modules.unparsed).toEqual([]);
    expect(modules.failed).toBe(false);
    expect(hasApacheModule(modules, "access_compat")).toBe(true);
    expect(hasApacheModule(modules, "proxy_balancer")).toBe(false);
    expect(modules.entries.find((entry) => entry.shortName === "core")?.kind).toBe("static");
    // stderr carries AH00558 and is not a module list.
    expect(stderr).toMatch(/AH00558/);
    expect(parseApacheModules(stderr).entries).toEqual([]);
  });

  it("sees the modules the lab enables (a2enmod proxy proxy_http proxy_balancer lbmethod_byrequests headers)", () => {
    const modules = parseApacheModules(captured("apache2ctl-M.lab").stdout);
    for (const name of ["proxy", "proxy_http", "proxy_balancer", "lbmethod_byrequests", "headers", "slotmem_shm"]) {
      expect(modules.modules.has(name), name).toBe(true);
    }
    expect(modules.entries.find((entry) => entry.name === "proxy_balancer_module")?.kind).toBe("shared");
  });

  it("ignores stderr merged in by a pty, CRLF line ends and the 'Syntax OK' of old Apache", () => {
    const { stdout, stderr } = captured("apache2ctl-M.default");
    const merged = `${stderr}${stdout}Syntax OK\n`.replace(/\n/g, "\r\n");
    const modules = parseApacheModules(merged);
    expect(modules.modules).toEqual(parseApacheModules(stdout).modules);
    expect(modules.notices[0]).toMatch(/^AH00558/);
    expect(modules.unparsed).toEqual([]);
  });

  it("reports a failed action and keeps garbage as unparsed lines", () => {
    const result = parseApacheModules(captured("apache2ctl-t.no-headers").stdout + "\u0000garbage ( shared\n");
    expect(result.failed).toBe(true);
    expect(result.entries).toEqual([]);
    expect(result.unparsed.map((line) => line.text)).toEqual(["\u0000garbage ( shared"]);
    expect(parseApacheModules(undefined as unknown as string).entries).toEqual([]);
  });

  it("normalises the ways a module is named", () => {
    for (const name of ["proxy_balancer_module", "mod_proxy_balancer", "mod_proxy_balancer.so", "mod_proxy_balancer.c", "PROXY_BALANCER"]) {
      expect(apacheModuleShortName(name)).toBe("proxy_balancer");
    }
  });
});

describe("parseApacheVhosts on apache2ctl -S", () => {
  it("reads single and name-based virtual hosts with their files", () => {
    const result = parseApacheVhosts(captured("apache2ctl-S.lab").stdout);
    expect(result.unparsed).toEqual([]);
    const lab = result.vhosts.find((vhost) => vhost.address === "127.0.0.10");
    expect(lab).toMatchObject({ port: 80, serverName: "balanceador.lab", file: "/tmp/hgtest-inspect/proxy-inverso.conf", line: 4, nameBased: false });
    const nameBased = result.vhosts.filter((vhost) => vhost.port === 8080);
    expect(nameBased.map((vhost) => [vhost.serverName, vhost.isDefault])).toEqual([
      ["intranet.example", true],
      ["other.example", false],
    ]);
    expect(nameBased[0]?.aliases).toEqual(["www.intranet.example"]);
    expect(result.serverRoot).toBe("/etc/apache2");
    expect(result.user).toBe("www-data");
    expect(result.defines.DUMP_VHOSTS).toBe(true);
  });

  it("reads the default site of this machine", () => {
    const result = parseApacheVhosts(captured("apache2ctl-S.default").stdout);
    expect(result.vhosts).toHaveLength(1);
    expect(result.vhosts[0]).toMatchObject({ address: "*", port: 80, file: "/etc/apache2/sites-enabled/000-default.conf", line: 1 });
  });

  it("keeps a vhost whose name Apache could not resolve, IPv6 keys, and unknown lines", () => {
    // Seen on this machine before the site got a ServerName (AH00549).
    const text = [
      "VirtualHost configuration:",
      "127.0.0.10:80          bogus_host_without_reverse_dns (/tmp/hgtest-inspect/proxy-inverso.conf:3)",
      "[::1]:8080             localhost (/etc/apache2/sites-enabled/v6.conf:2)",
      "this line is not -S output",
    ].join("\n");
    const result = parseApacheVhosts(text);
    expect(result.vhosts.map((vhost) => [vhost.address, vhost.port, vhost.serverName])).toEqual([
      ["127.0.0.10", 80, "bogus_host_without_reverse_dns"],
      ["[::1]", 8080, "localhost"],
    ]);
    expect(result.unparsed).toEqual([{ line: 4, text: "this line is not -S output" }]);
  });
});

describe("parseApacheConfigtest on apache2ctl -t", () => {
  it("passes the fixed lab configuration", () => {
    const { stdout, stderr } = captured("apache2ctl-t.lab");
    expect(parseApacheConfigtest(stderr + stdout)).toMatchObject({ syntaxOk: true, errors: [] });
  });

  it("names the stray line of the lab text's listing, as Apache does", () => {
    const { stdout, stderr } = captured("apache2ctl-t.as-printed");
    const result = parseApacheConfigtest(stderr + stdout);
    expect(result.syntaxOk).toBe(false);
    expect(result.errors).toEqual([
      expect.objectContaining({ file: "/tmp/hgtest-inspect/proxy-inverso.conf", line: 3, invalidCommand: "env=BALANCER_ROUTE_CHANGED" }),
    ]);
  });

  it("follows include chains and reports a missing mod_headers", () => {
    const first = captured("apache2ctl-t.first-listing");
    const nested = parseApacheConfigtest(first.stderr + first.stdout).errors[0];
    expect(nested).toMatchObject({ file: "/tmp/hgtest-inspect/proxy-inverso.conf", line: 12, message: "</VirtualHost> without matching <VirtualHost> section" });
    expect(nested?.includedFrom).toEqual([{ file: "/tmp/hgtest-inspect/lab.conf", line: 6 }]);
    const noHeaders = captured("apache2ctl-t.no-headers");
    expect(parseApacheConfigtest(noHeaders.stderr + noHeaders.stdout).errors[0]?.invalidCommand).toBe("Header");
  });
});

describe("parseApacheConfig on the lab's reverse-proxy site", () => {
  it("extracts the balancer, its members, ProxyPass and the ROUTEID cookie of the fixed file", () => {
    const config = parseApacheConfig(fixture("apache/proxy-inverso.fixed.conf"), { file: SITE });
    expect(config.problems).toEqual([]);
    expect(config.balancers).toHaveLength(1);
    const balancer = config.balancers[0];
    expect(balancer).toMatchObject({ name: "micluster", url: "balancer://micluster", lbmethod: "byrequests", stickysession: "ROUTEID" });
    expect(balancer?.stickySessionNames).toEqual(["ROUTEID"]);
    // stickysession sits on a continuation line: its evidence is the ProxyPass line.
    expect(balancer?.paramSources.stickysession).toEqual({ file: SITE, line: 7 });
    expect(balancer?.members.map((member) => [member.host, member.port, member.explicitPort, member.loadfactor, member.route, member.retry])).toEqual([
      ["10.221.1.11", 80, false, 3, "wsrv1", undefined],
      ["10.221.1.12", 80, true, 1, "wsrv2", 5],
    ]);
    expect(config.proxyPasses).toEqual([
      expect.objectContaining({ path: "/", url: "balancer://micluster/", balancerName: "micluster", virtualHost: "127.0.0.10:80", line: 7 }),
    ]);
    expect(config.proxyPassReverses[0]).toMatchObject({ path: "/", balancerName: "micluster" });
    expect(config.routeCookies).toHaveLength(1);
    expect(config.routeCookies[0]).toMatchObject({
      cookieName: "ROUTEID",
      valueTemplate: ".%{BALANCER_WORKER_ROUTE}e",
      usesWorkerRoute: true,
      routePrefix: ".",
      path: "/",
      condition: "env=BALANCER_ROUTE_CHANGED",
      onlyWhenRouteChanges: true,
    });
    expect(config.routeCookies[0]?.header).toMatchObject({ action: "add", header: "Set-Cookie", line: 6 });
    expect(config.virtualHosts).toEqual([expect.objectContaining({ addresses: ["127.0.0.10:80"], serverName: "balanceador.lab", line: 4 })]);
  });

  it("reports the stray parameter lines of the listing as printed, on the lines Apache blames", () => {
    const config = parseApacheConfig(fixture("apache/proxy-inverso.as-printed.conf"), { file: SITE });
    const stray = config.problems.filter((problem) => problem.code === "stray-parameter-line");
    expect(stray.map((problem) => [problem.line, problem.text?.trim()])).toEqual([
      [3, "env=BALANCER_ROUTE_CHANGED"],
      [5, "stickysession=ROUTEID"],
    ]);
    expect(stray[1]?.message).toMatch(/line 4 \(ProxyPass\)/);
    // Apache stops at the first one: the same line the parser reports first.
    const apache = captured("apache2ctl-t.as-printed");
    expect(parseApacheConfigtest(apache.stderr).errors[0]?.line).toBe(stray[0]?.line);
    // Without the stray lines attached, the balancer has no stickysession and the cookie no condition.
    expect(config.balancers[0]?.stickysession).toBeUndefined();
    expect(config.routeCookies[0]?.onlyWhenRouteChanges).toBe(false);
  });

  it("reports the extra </VirtualHost> of the first listing where Apache does", () => {
    const config = parseApacheConfig(fixture("apache/proxy-inverso.first-listing.conf"), { file: SITE });
    expect(config.problems.map((problem) => [problem.code, problem.line])).toEqual([["unmatched-section-close", 12]]);
    expect(config.balancers[0]?.members).toHaveLength(2);
    expect(config.proxyPasses[0]?.balancerName).toBe("mcluster");
  });

  it("tells a ProxyPass to a balancer with no members (mcluster vs micluster)", () => {
    const text = [
      "<VirtualHost *:80>",
      "    ProxyPass / balancer://micluster/ lbmethod=byrequests",
      "</VirtualHost>",
      "<Proxy balancer://mcluster>",
      "    BalancerMember http://10.221.1.11",
      "</Proxy>",
    ].join("\n");
    const config = parseApacheConfig(text, { file: SITE });
    const codes = config.problems.map((problem) => [problem.code, problem.line]);
    expect(codes).toContainEqual(["balancer-without-members", 2]);
    expect(codes).toContainEqual(["balancer-not-used", 4]);
    expect(config.problems.find((problem) => problem.code === "balancer-without-members")?.message).toMatch(/balancer:\/\/mcluster/);
  });

  it("matches directives, sections and balancer names case-insensitively, as Apache does", () => {
    const text = [
      "<virtualhost 127.0.0.10:80>",
      "  PROXYPASS / balancer://MiCluster/ LbMethod=bytraffic StickySession=ROUTEID|routeid",
      '  header ALWAYS set Set-Cookie "ROUTEID=.%{BALANCER_WORKER_ROUTE}e;Path=/;HttpOnly" env=BALANCER_ROUTE_CHANGED',
      "  <PROXY balancer://micluster>",
      "    balancermember http://10.221.1.11:8080/app LOADFACTOR=2 Route=a",
      "    BalancerMember https://[2001:db8::12] route=b",
      "    ProxySet lbmethod=byrequests",
      "  </proxy>",
      "</VIRTUALHOST>",
    ].join("\n");
    const config = parseApacheConfig(text, { file: SITE });
    expect(config.problems).toEqual([]);
    const balancer = config.balancers[0];
    expect(config.balancers).toHaveLength(1);
    expect(balancer?.referencedAt).toHaveLength(1);
    // ProxySet comes later in the file and wins.
    expect(balancer?.lbmethod).toBe("byrequests");
    expect(balancer?.stickySessionNames).toEqual(["ROUTEID", "routeid"]);
    expect(balancer?.members.map((member) => [member.scheme, member.host, member.port, member.path, member.loadfactor, member.route])).toEqual([
      ["http", "10.221.1.11", 8080, "/app", 2, "a"],
      ["https", "2001:db8::12", 443, "", 1, "b"],
    ]);
    expect(config.routeCookies[0]).toMatchObject({ cookieName: "ROUTEID", path: "/", attributes: { path: "/", httponly: true } });
    expect(config.routeCookies[0]?.header.condition).toBe("always");
  });

  it("tells a sticky cookie name that differs from stickysession, and members without route", () => {
    const text = [
      '<VirtualHost *:80>',
      '    Header add Set-Cookie "routeid=.%{BALANCER_WORKER_ROUTE}e; path=/" env=BALANCER_ROUTE_CHANGED',
      "    ProxyPass / balancer://c/ stickysession=ROUTEID",
      "    <Proxy balancer://c>",
      "        BalancerMember http://10.221.1.11 route=wsrv1",
      "        BalancerMember http://10.221.1.12",
      "    </Proxy>",
      "</VirtualHost>",
    ].join("\n");
    const codes = parseApacheConfig(text, { file: SITE }).problems.map((problem) => [problem.code, problem.line]);
    expect(codes).toContainEqual(["sticky-cookie-mismatch", 3]);
    expect(codes).toContainEqual(["member-without-route", 6]);
  });

  it("handles tabs, CRLF, comments, quotes, BalancerMember outside <Proxy> and ProxySet with a balancer", () => {
    const text = [
      "# comment",
      "\t  # indented comment",
      "",
      "BalancerMember balancer://pool http://10.221.1.11 loadfactor=1 route=a",
      "BalancerMember\tbalancer://pool\thttp://10.221.1.12\tloadfactor=2\troute=b",
      "ProxySet balancer://pool lbmethod=bybusyness",
      "<Location /app>",
      "    ProxyPass balancer://pool/ stickysession=JSESSIONID",
      "</Location>",
      "ProxyPass /static !",
      'Header set X-Note "a \\"quoted\\" value"',
    ].join("\r\n");
    const config = parseApacheConfig(text, { file: SITE });
    expect(config.problems).toEqual([]);
    expect(config.balancers[0]).toMatchObject({ name: "pool", lbmethod: "bybusyness", stickysession: "JSESSIONID" });
    expect(config.balancers[0]?.members.map((member) => member.loadfactor)).toEqual([1, 2]);
    expect(config.proxyPasses[0]).toMatchObject({ location: "/app", url: "balancer://pool/" });
    expect(config.proxyPasses[0]?.path).toBeUndefined();
    expect(config.proxyPasses[1]).toMatchObject({ path: "/static", excluded: true });
    expect(config.headers[0]?.value).toBe('a "quoted" value');
  });

  it("tells a backslash followed by spaces, inline comments and placeholder hosts", () => {
    const text = [
      "<Proxy balancer://c>",
      "    BalancerMember http://ip_webserver1 loadfactor=1 # first",
      "</Proxy>",
      "ProxyPass / balancer://c lbmethod=byrequests \\  ",
      "    stickysession=ROUTEID",
    ].join("\n");
    const codes = parseApacheConfig(text, { file: SITE }).problems.map((problem) => [problem.code, problem.line]);
    expect(codes).toContainEqual(["placeholder-host", 2]);
    expect(codes).toContainEqual(["inline-comment", 2]);
    expect(codes).toContainEqual(["continuation-with-trailing-space", 4]);
    expect(codes).toContainEqual(["invalid-parameter", 4]);
    expect(codes).toContainEqual(["stray-parameter-line", 5]);
    expect(codes).toContainEqual(["proxypass-trailing-slash", 4]);
  });

  it("reports unclosed and mismatched sections and never throws on garbage", () => {
    const unclosed = parseApacheConfig("<VirtualHost *:80>\n<Proxy balancer://x>\n</VirtualHost>\n", { file: SITE });
    expect(unclosed.problems.map((problem) => [problem.code, problem.line])).toContainEqual(["mismatched-section-close", 3]);
    const open = parseApacheConfig("<VirtualHost *:80>\nProxyPass / http://10.0.0.1/\n", { file: SITE });
    expect(open.problems.map((problem) => [problem.code, problem.line])).toEqual([["unclosed-section", 1]]);
    for (const garbage of ["\u0000\u0001<<<>>>", "<", "</>", '"unterminated', "\\", "ProxyPass", "BalancerMember", "Header", "=", "<Proxy"]) {
      expect(() => parseApacheConfig(garbage, { file: SITE })).not.toThrow();
    }
    expect(parseApacheConfig("ProxyPass\n", { file: SITE }).problems[0]?.code).toBe("proxypass-missing-url");
  });

  it("reads Include and IncludeOptional through the callback, relative to ServerRoot", () => {
    const files = [
      { path: "/etc/apache2/ports.conf", text: "Listen 80\n" },
      { path: "/etc/apache2/sites-enabled/000-default.conf", text: "<VirtualHost *:80>\n</VirtualHost>\n" },
      { path: "/etc/apache2/sites-enabled/proxy-inverso.conf", text: fixture("apache/proxy-inverso.fixed.conf") },
      { path: "/etc/apache2/mods-enabled/proxy.load", text: "LoadModule proxy_module /usr/lib/apache2/modules/mod_proxy.so\n" },
    ];
    const main = "ServerRoot /etc/apache2\nInclude ports.conf\nIncludeOptional mods-enabled/*.load\nIncludeOptional sites-enabled/*.conf\nIncludeOptional conf-enabled/*.conf\nInclude missing.conf\n";
    const config = parseApacheConfig(main, { file: "/etc/apache2/apache2.conf", readInclude: apacheIncludesFrom(files) });
    expect(config.files).toEqual([
      "/etc/apache2/apache2.conf",
      "/etc/apache2/ports.conf",
      "/etc/apache2/mods-enabled/proxy.load",
      "/etc/apache2/sites-enabled/000-default.conf",
      "/etc/apache2/sites-enabled/proxy-inverso.conf",
    ]);
    expect(config.balancers[0]?.members[0]).toMatchObject({ file: "/etc/apache2/sites-enabled/proxy-inverso.conf", line: 13 });
    expect(config.problems.map((problem) => [problem.code, problem.line])).toEqual([["include-missing", 6]]);
  });

  it("stops an Include loop and reports a reader that fails", () => {
    const loop = parseApacheConfig("Include /etc/apache2/loop.conf\n", {
      file: "/etc/apache2/loop.conf",
      readInclude: apacheIncludesFrom([{ path: "/etc/apache2/loop.conf", text: "Include /etc/apache2/loop.conf\n" }]),
      maxIncludeDepth: 4,
    });
    expect(loop.problems.map((problem) => problem.code)).toEqual(["include-too-deep"]);
    const failing = parseApacheConfig("IncludeOptional /etc/httpd/conf.d/*.conf\n", {
      file: "/etc/httpd/conf/httpd.conf",
      readInclude: () => {
        throw new Error("ssh channel closed");
      },
    });
    expect(failing.problems[0]).toMatchObject({ code: "include-unreadable", severity: "warning" });
    expect(failing.problems[0]?.message).toMatch(/ssh channel closed/);
  });

  it("skips <IfModule> blocks of modules that are not loaded when the module list is given", () => {
    const text = [
      "<IfModule mod_headers.c>",
      '  Header add Set-Cookie "ROUTEID=.%{BALANCER_WORKER_ROUTE}e; path=/" env=BALANCER_ROUTE_CHANGED',
      "</IfModule>",
      "<IfModule !proxy_balancer_module>",
      "  ProxyPass / http://10.221.1.11/",
      "</IfModule>",
    ].join("\n");
    const loaded = parseApacheModules(captured("apache2ctl-M.default").stdout).modules;
    const withModules = parseApacheConfig(text, { file: SITE, loadedModules: loaded });
    expect(withModules.routeCookies).toEqual([]);
    expect(withModules.proxyPasses).toHaveLength(1);
    const withoutList = parseApacheConfig(text, { file: SITE });
    expect(withoutList.routeCookies).toHaveLength(1);
  });
});
