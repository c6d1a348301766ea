import { describe, expect, it } from "vitest";

import {
  formatIpv4Prefix,
  compileGlob,
  isIpv4,
  isIpv6,
  matchFetchedFiles,
  parseIpv4Prefix,
  prefixContains,
  prefixesOverlap,
  resolvePosix,
  splitLines,
} from "../../src/inspect/index.js";

describe("splitLines", () => {
  it("ends lines at LF, CRLF and lone CR, drops a BOM and the last empty line", () => {
    expect(splitLines("\uFEFFa\r\nb\rc\n\nd\n")).toEqual(["a", "b", "c", "", "d"]);
    expect(splitLines("")).toEqual([]);
    expect(splitLines(undefined as unknown as string)).toEqual([]);
  });
});

describe("IPv4 prefixes", () => {
  it("parses lengths, masks and host addresses, and rejects the rest", () => {
    expect(formatIpv4Prefix(parseIpv4Prefix("10.221.1.77/24")!)).toBe("10.221.1.0/24");
    expect(formatIpv4Prefix(parseIpv4Prefix("192.168.100.0/255.255.255.0")!)).toBe("192.168.100.0/24");
    expect(formatIpv4Prefix(parseIpv4Prefix("10.221.1.7")!)).toBe("10.221.1.7/32");
    expect(formatIpv4Prefix(parseIpv4Prefix("0.0.0.0/0")!)).toBe("0.0.0.0/0");
    for (const bad of ["10.221.1.0/33", "10.221.1.256/24", "10.221.1.0/255.0.255.0", "net", "1.2.3.4/5/6", ""]) {
      expect(parseIpv4Prefix(bad), bad).toBeUndefined();
    }
  });

  it("tells containment and overlap", () => {
    const p = (text: string) => parseIpv4Prefix(text)!;
    expect(prefixContains(p("10.0.0.0/8"), p("10.221.1.0/24"))).toBe(true);
    expect(prefixContains(p("10.221.1.0/24"), p("10.0.0.0/8"))).toBe(false);
    expect(prefixContains(p("0.0.0.0/0"), p("203.0.113.10"))).toBe(true);
    expect(prefixesOverlap(p("10.221.1.0/24"), p("10.0.0.0/8"))).toBe(true);
    expect(prefixesOverlap(p("10.221.1.0/24"), p("10.221.2.0/24"))).toBe(false);
  });

  it("recognises addresses", () => {
    expect(isIpv4("203.0.113.10")).toBe(true);
    expect(isIpv4("ip_webserver1")).toBe(false);
    expect(isIpv6("2001:db8::1")).toBe(true);
    expect(isIpv6("::ffff:10.0.0.1")).toBe(true);
    expect(isIpv6("fe80::1::2")).toBe(false);
    expect(isIpv6("10.0.0.1")).toBe(false);
  });
});

describe("globs over fetched files", () => {
  it("matches like glob(3): no '/' under '*', classes, sorted results", () => {
    expect(compileGlob("/etc/apache2/sites-enabled/*.conf").test("/etc/apache2/sites-enabled/a.conf")).toBe(true);
    expect(compileGlob("/etc/apache2/*.conf").test("/etc/apache2/sites-enabled/a.conf")).toBe(false);
    expect(compileGlob("/etc/k/[0-9]?-*.conf").test("/etc/k/10-vs.conf")).toBe(true);
    expect(compileGlob("/etc/k/[!a]*").test("/etc/k/abc")).toBe(false);
    const files = [
      { path: "/etc/k/b.conf", text: "" },
      { path: "/etc/k/a.conf", text: "" },
      { path: "/etc/k/a.conf.bak", text: "" },
    ];
    expect(matchFetchedFiles(files, "/etc/k/*.conf").map((file) => file.path)).toEqual(["/etc/k/a.conf", "/etc/k/b.conf"]);
    expect(matchFetchedFiles(files, "/etc/k/a.conf.bak")).toHaveLength(1);
  });

  it("a glob of many stars over a long name answers at once and as glob(3) would", () => {
    const started = performance.now();
    const hostile = compileGlob(`/etc/apache2/${"*".repeat(24)}x`);
    expect(hostile.test(`/etc/apache2/${"a".repeat(5000)}`)).toBe(false);
    expect(hostile.test(`/etc/apache2/${"a".repeat(5000)}x`)).toBe(true);
    const spaced = compileGlob(`/etc/${"*a".repeat(40)}b`);
    expect(spaced.test(`/etc/${"a".repeat(4000)}`)).toBe(false);
    // Generous: the regular expression this replaced took minutes on the first case alone.
    expect(performance.now() - started).toBeLessThan(2000);
    // The same answers as a backtracking reference on small inputs, over every combination.
    const reference = (pattern: string, path: string): boolean =>
      new RegExp(`^${pattern.replace(/[.]/g, "\\.").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]")}$`).test(path);
    const patterns = ["*", "a*", "*a", "*a*", "a?c", "**b", "*/*", "a*b*c", "?", "*.conf", "a/*b"];
    const paths = ["", "a", "ab", "abc", "aXc", "b", "a/b", "a/xb", "x.conf", "xconf", "acbc", "a/b/c"];
    for (const pattern of patterns) {
      for (const path of paths) expect(compileGlob(pattern).test(path), `${pattern} on ${path}`).toBe(reference(pattern, path));
    }
    expect(compileGlob("/k/[a-c]x").test("/k/bx")).toBe(true);
    expect(compileGlob("/k/[^a-c]x").test("/k/bx")).toBe(false);
    expect(compileGlob("/k/[x").test("/k/[x")).toBe(true);
  });

  it("resolves relative paths", () => {
    expect(resolvePosix("/etc/apache2", "sites-enabled/*.conf")).toBe("/etc/apache2/sites-enabled/*.conf");
    expect(resolvePosix("/etc/keepalived/conf.d", "../rs/a.conf")).toBe("/etc/keepalived/rs/a.conf");
    expect(resolvePosix("/etc/apache2", "/etc/httpd/conf.d/x.conf")).toBe("/etc/httpd/conf.d/x.conf");
    expect(resolvePosix(undefined, "ports.conf")).toBe("ports.conf");
  });
});
