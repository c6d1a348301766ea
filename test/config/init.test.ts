import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { starterSpec } from "../../src/config/init.js";
import { formatProblems, parseSpecText } from "../../src/config/load.js";
import { privateKeyPem } from "./workspace.js";

let home: string;
beforeEach(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), "hagrade-init-"));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

describe.each(["es", "en"] as const)("starterSpec(%s)", (lang) => {
  const options = () => ({ baseDir: home, sourceName: "lab.yaml", homeDir: home, env: {} });

  it("loads with no problem but the key file it cannot know", async () => {
    const result = await parseSpecText(starterSpec(lang), options());
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems.map((problem) => problem.path)).toEqual(["ssh.privateKey"]);
  });

  it("loads cleanly once the key exists, with the lab text's addresses", async () => {
    await mkdir(path.join(home, ".ssh"));
    await writeFile(path.join(home, ".ssh", "id_ed25519"), privateKeyPem(), { mode: 0o600 });
    const result = await parseSpecText(starterSpec(lang), options());
    if (!result.ok) throw new Error(formatProblems(result.problems, "en"));
    expect(result.warnings).toEqual([]);
    const { spec } = result;
    expect(spec.lang).toBe(lang);
    expect(spec.vip.address).toBe("192.168.0.10");
    expect(spec.balancer.internalAddress).toBe("192.168.100.1");
    expect(spec.backends.map((backend) => [backend.address, backend.route])).toEqual([["192.168.100.11", "wsrv1"], ["192.168.100.12", "wsrv2"]]);
    expect(spec.expect.persistenceTimeout).toBe(1200);
  });

  it("is commented in the requested language", () => {
    const text = starterSpec(lang);
    const comments = text.split("\n").filter((line) => line.includes("#")).join("\n");
    if (lang === "es") expect(comments).toContain("Los servidores web de la granja");
    else expect(comments).toContain("The farm's web servers");
    expect(comments).not.toContain(lang === "es" ? "The farm's web servers" : "Los servidores web de la granja");
  });
});
