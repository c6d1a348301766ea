/**
 * The grading helper tests share: a spec fixture that does not load stops the test with the file
 * and the field to fix (not a JSON dump), and a test's own options win over the safe defaults.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUBRIC } from "../../checks/index.js";
import { gradeOptions, loadLabSpec } from "./grade.js";

let dir: string;

/** A Part 2 lab in the smallest spec that loads; `secondAddress` lets a test break it. */
async function writeSpec(name: string, secondAddress = "192.168.100.12"): Promise<string> {
  const file = join(dir, name);
  const backends = [{ name: "webserver1", address: "192.168.100.11" }, { name: "webserver2", address: secondAddress }];
  await writeFile(file, JSON.stringify({ lab: "alumno-01", vip: { address: "192.168.0.10" }, balancer: { internalAddress: "192.168.100.1" }, backends }));
  return file;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hagrade-grade-helper-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("loadLabSpec", () => {
  it("returns the spec of a file that loads", async () => {
    const spec = await loadLabSpec(await writeSpec("lab.json"));
    expect(spec.lab).toBe("alumno-01");
    expect(spec.backends.map((b) => b.name)).toEqual(["webserver1", "webserver2"]);
  });

  it("lays spec overrides over the file", async () => {
    expect((await loadLabSpec(await writeSpec("lab.json"), { lab: "alumno-02" })).lab).toBe("alumno-02");
  });

  it("throws an error naming the file and the field to fix when the spec does not load", async () => {
    const file = await writeSpec("broken.json", "not-an-address");
    const error = await loadLabSpec(file).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain(file);
    expect(message).toContain("backends[1].address");
    expect(message).toContain("Fix:");
  });
});

describe("gradeOptions", () => {
  it("changes nothing, waits out nothing, asks no one and trusts no new host key unless told", () => {
    expect(gradeOptions({ journalDir: "/j" })).toEqual({
      rubric: RUBRIC,
      lang: "en",
      disruptive: false,
      long: false,
      interactive: false,
      acceptNewHostKeys: false,
      journalDir: "/j",
    });
  });

  it("lets the test's own choices win", () => {
    const options = gradeOptions({ journalDir: "/j", lang: "es", disruptive: true, part: "lvs", only: ["net.vip-http"] });
    expect(options).toMatchObject({ lang: "es", disruptive: true, long: false, part: "lvs", only: ["net.vip-http"] });
  });
});
