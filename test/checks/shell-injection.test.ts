/**
 * Nothing from a student's machine reaches a shell unquoted: what lvs.http-get reads back (the
 * page's MD5 and bytes) is validated before it goes into the undo and verify commands run as
 * root, a URL path (the spec's vip.path, or a path in the student's keepalived.conf) reaches the
 * page fetch as quoted words only, and vip.path itself is restricted to a plain URL path.
 */
import { describe, expect, it } from "vitest";
import { isMd5, isPageBase64, isSafeUrlPath } from "../../checks/lvs/health-check.js";
import { labSpecSchema, type LabSpecInput } from "../../src/config/schema.js";
import { fetchPageCommand } from "../../src/runner/pages.js";
import { shQuote } from "../../src/ssh/index.js";
import { shellTokens, type ShellWord } from "../helpers/shell-words.js";

const PAYLOADS = ["'; id > pwned; echo '", "$(id)", "`id`", "a\nid", "a;id", '"$(id)"', "\\'$(id)"];

/** Every word of `command`, and of the scripts it hands to `bash -c`, as sh reads them. */
function wordsOf(command: string): ShellWord[] {
  const words = shellTokens(command).flatMap((t) => ("word" in t ? [t.word] : []));
  const nested = words.flatMap((word, i) => (words[i - 1]?.text === "-c" && word.quoted.every(Boolean) ? wordsOf(word.text) : []));
  return [...words, ...nested];
}

/** Occurrences of `payload` in the words of `command`: read literally (all quoted) or not. */
function occurrences(command: string, payload: string): { quoted: number; unquoted: number } {
  const count = { quoted: 0, unquoted: 0 };
  for (const word of wordsOf(command)) {
    for (let at = word.text.indexOf(payload); at >= 0; at = word.text.indexOf(payload, at + 1)) {
      if (word.quoted.slice(at, at + payload.length).every(Boolean)) count.quoted++;
      else count.unquoted++;
    }
  }
  return count;
}

describe("what lvs.http-get reads back before it builds root commands", () => {
  it("an MD5 is exactly 32 lowercase hex digits", () => {
    expect(isMd5("d41d8cd98f00b204e9800998ecf8427e")).toBe(true);
    for (const bad of ["", "d41d8cd98f00b204e9800998ecf8427", "d41d8cd98f00b204e9800998ecf8427e ", "$(id)d8cd98f00b204e9800998ecf842", "'; id; echo '".padEnd(32, "0"), undefined]) {
      expect(isMd5(bad), String(bad)).toBe(false);
    }
  });

  it("a page is strict base64 of at most 48 KiB", () => {
    expect(isPageBase64(Buffer.from("<h1>Bienvenido a webserver1</h1>\n").toString("base64"))).toBe(true);
    expect(isPageBase64("")).toBe(true);
    expect(isPageBase64(Buffer.alloc(48 * 1024, 65).toString("base64"))).toBe(true);
    expect(isPageBase64(Buffer.alloc(48 * 1024 + 3, 65).toString("base64"))).toBe(false);
    for (const bad of ["''; id > pwned; echo ''", "QUJD$(id)", "QUJD\nQUJD", "QUJ", "QU=D", "QUJD'"]) expect(isPageBase64(bad), bad).toBe(false);
  });
});

describe("a URL path in the page fetch", () => {
  it("reaches the shell as quoted words only, whatever it holds, on each of curl, wget and /dev/tcp", () => {
    for (const payload of PAYLOADS) {
      const command = fetchPageCommand("127.0.0.1", 80, `/${payload}`);
      // A literal word each for curl, wget and the /dev/tcp request (and the script holding it); never out of quotes.
      const seen = occurrences(command, payload);
      expect(seen.unquoted, command).toBe(0);
      expect(seen.quoted, command).toBeGreaterThanOrEqual(3);
    }
    // A "%" is harmless to sh but is printf's format: the path is printf's argument, never its format.
    const printf = wordsOf(fetchPageCommand("127.0.0.1", 80, "/%n%s")).map((word) => word.text);
    expect(printf[printf.indexOf("printf") + 1]).toBe("GET %s HTTP/1.0\\r\\nHost: %s\\r\\n\\r\\n");
    expect(printf[printf.indexOf("printf") + 2]).toBe("/%n%s");
    // The detector itself: the request line as it was built before lets the payload out.
    const before = `timeout 5 bash -c ${shQuote(`exec 3<>/dev/tcp/127.0.0.1/80 && printf 'GET /'\`id\`' HTTP/1.0' >&3`)}`;
    expect(occurrences(before, "`id`").unquoted).toBe(1);
  });

  it("vip.path is a plain URL path: quotes, $(, backquotes, blanks and a bare % are refused with the field named", () => {
    const spec = (path: string): LabSpecInput => ({
      lab: "alumno-01",
      vip: { address: "192.168.0.10", path },
      balancer: { internalAddress: "192.168.100.1" },
      backends: [
        { name: "webserver1", address: "192.168.100.11" },
        { name: "webserver2", address: "192.168.100.12" },
      ],
    });
    for (const good of ["/", "/index.html", "/a/b-c_d.~x", "/p?x=1&y=%20z", "/%7Euser/"]) {
      expect(labSpecSchema.safeParse(spec(good)).success, good).toBe(true);
      expect(isSafeUrlPath(good)).toBe(true);
    }
    for (const bad of ["/'", "/$(id)", "/`id`", "/a b", "/%n", "/a;id", "/a\nb", "index.html", '/"x"', "/a|b"]) {
      const result = labSpecSchema.safeParse(spec(bad));
      expect(result.success, bad).toBe(false);
      expect(result.success ? [] : result.error.issues.map((issue) => issue.path.join("."))).toContain("vip.path");
      expect(isSafeUrlPath(bad)).toBe(false);
    }
  });
});
