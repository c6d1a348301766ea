import { describe, expect, it } from "vitest";
import { classifyError, createIdentifier, sanitizeCapture } from "../../src/probe/index.js";

const backends = [
  { name: "webserver1", identity: "1" },
  { name: "webserver2", identity: "2" },
];

describe("createIdentifier", () => {
  const identify = createIdentifier({ backends });

  it("maps the lab's welcome text to the backend with that identity, case-insensitively", () => {
    expect(identify("<h1>Bienvenido a webserver1</h1>")).toEqual({ backend: "webserver1", label: "webserver1", captured: "1" });
    expect(identify("BIENVENIDO A WEBSERVER2")).toEqual({ backend: "webserver2", label: "webserver2", captured: "2" });
    expect(identify("Bienvenido a webserver02").backend).toBe("webserver2");
  });

  it("sees through markup and line breaks between the words", () => {
    expect(identify("<p>Bienvenido a <b>webserver2</b></p>").backend).toBe("webserver2");
    expect(identify("Bienvenido\n   a webserver1").backend).toBe("webserver1");
  });

  it("labels an unknown capture and a page without the text", () => {
    expect(identify("Bienvenido a webserver7")).toEqual({ backend: null, label: "unknown:7", captured: "7" });
    expect(identify("It works!")).toEqual({ backend: null, label: "unidentified" });
    expect(identify("")).toEqual({ backend: null, label: "unidentified" });
  });

  it("tries each backend's own match before the global pattern", () => {
    const custom = createIdentifier({
      backends: [
        { name: "alpha", identity: "1", match: /servidor alfa/i },
        { name: "beta", identity: "2" },
      ],
    });
    expect(custom("Servidor ALFA — Bienvenido a webserver2").backend).toBe("alpha");
    expect(custom("Bienvenido a webserver2").backend).toBe("beta");
    expect(custom("Bienvenido a webserver1").backend).toBe("alpha");
  });

  it("sanitises and caps what a hostile page makes the pattern capture", () => {
    const loose = createIdentifier({ pattern: /served by (.+)/i, backends });
    const who = loose(`served by <script>alert(1)</script>${"x".repeat(5000)}`);
    expect(who.backend).toBeNull();
    expect(who.label).toMatch(/^unknown:[A-Za-z0-9._-]{1,32}$/);
    expect(who.captured?.length).toBeLessThanOrEqual(256);
    expect(sanitizeCapture("  ")).toBe("_");
  });

  it("examines only the first maxExaminedChars of a page", () => {
    const capped = createIdentifier({ backends, maxExaminedChars: 1000 });
    expect(capped(`${" ".repeat(900)}Bienvenido a webserver1`).backend).toBe("webserver1");
    expect(capped(`${" ".repeat(2000)}Bienvenido a webserver1`).label).toBe("unidentified");
  });

  it("a global or sticky regex gives the same answer every time", () => {
    const sticky = createIdentifier({ pattern: /Bienvenido a webserver(\d+)/gi, backends });
    const answers = [1, 2, 3].map(() => sticky("Bienvenido a webserver1").backend);
    expect(answers).toEqual(["webserver1", "webserver1", "webserver1"]);
  });
});

describe("classifyError", () => {
  it("maps socket error codes to the probe's categories", () => {
    const err = (code: string, syscall?: string): Error => Object.assign(new Error(`${syscall ?? "x"} ${code}`), { code, syscall });
    expect(classifyError(err("EHOSTUNREACH", "connect")).class).toBe("unreachable");
    expect(classifyError(err("ENETUNREACH", "connect")).class).toBe("unreachable");
    expect(classifyError(err("ETIMEDOUT", "connect")).class).toBe("connect-timeout");
    expect(classifyError(err("EADDRINUSE", "bind")).class).toBe("bind-failed");
    expect(classifyError(new Error("wrapped", { cause: err("ECONNREFUSED", "connect") })).class).toBe("connect-refused");
    expect(classifyError("a string").class).toBe("other");
    expect(classifyError(new Error("y".repeat(5000))).message.length).toBeLessThanOrEqual(301);
  });
});
