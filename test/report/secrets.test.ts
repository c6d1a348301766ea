/**
 * Secrets in a class: redaction changes string values of result.json, never its JSON text, and
 * leaves alone a secret too short to tell from a number or a date (the run warns instead); a
 * keyboard-interactive server gets the password only when it asks for one, in one hidden prompt;
 * a template password that students would share is warned about.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIN_REDACTED_SECRET_LENGTH, SecretRegistry } from "../../src/config/secrets.js";
import { sharedPasswordWarning, type RosterEntry } from "../../src/batch/roster.js";
import { gradescopeReporter } from "../../src/report/gradescope.js";
import { jsonReporter } from "../../src/report/json.js";
import { keyboardInteractiveAnswers } from "../../src/ssh/pool.js";
import type { RunResult } from "../../src/model/index.js";
import { brokenLab, passingLab, SECRET } from "./results.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hagrade-secrets-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writtenJson(result: RunResult, secrets: string[], name: string): Promise<{ text: string; data: RunResult }> {
  const registry = new SecretRegistry();
  for (const secret of secrets) registry.add(secret);
  const file = join(dir, name);
  await jsonReporter(file, (t) => registry.redact(t)).onEnd?.(result);
  const text = await readFile(file, "utf8");
  return { text, data: JSON.parse(text) as RunResult };
}

describe("redaction of result.json", () => {
  it("a secret that is also JSON syntax or part of a date is redacted only inside string values", async () => {
    const result = passingLab();
    result.checks[0]!.message = { es: 'clave "x,1}: sent', en: 'password "x,1}: sent' };
    const { data } = await writtenJson(result, ['"x,1}:'], "syntax.json");
    expect(data.checks[0]!.message.en).toBe("password *** sent");
    expect(data.startedAt).toBe(result.startedAt);
    expect(data.score).toBe(result.score);
  });

  it(`a secret shorter than ${MIN_REDACTED_SECRET_LENGTH} characters is not redacted, and counted for the warning`, async () => {
    const result = brokenLab();
    const registry = new SecretRegistry();
    registry.add("1");
    registry.add("2026");
    registry.add(SECRET);
    expect(registry.tooShort).toBe(2);
    expect(registry.redact(`2026-12-04 score 1 ${SECRET}`)).toBe("2026-12-04 score 1 ***");
    const { data } = await writtenJson(result, ["1", "2026"], "short.json");
    expect(data).toEqual(JSON.parse(JSON.stringify(result)));
    expect(new Date(data.startedAt).toISOString()).toBe(result.startedAt);
  });

  it("the secret is still gone from every string of result.json and results.json", async () => {
    const result = brokenLab();
    result.checks[0]!.message = { es: `contraseña ${SECRET} vista`, en: `password ${SECRET} seen` };
    const { text } = await writtenJson(result, [SECRET], "secret.json");
    expect(text).not.toContain(SECRET);
    expect(text).toContain("password *** seen");
    const registry = new SecretRegistry();
    registry.add(SECRET);
    const gradescope = join(dir, "results.json");
    await gradescopeReporter(gradescope, { lang: "en", redact: (t) => registry.redact(t) }).onEnd?.(result);
    const written = await readFile(gradescope, "utf8");
    expect(() => JSON.parse(written) as unknown).not.toThrow();
    expect(written).not.toContain(SECRET);
  });
});

describe("keyboard-interactive", () => {
  it("answers the password only to a single hidden prompt that asks for one", () => {
    expect(keyboardInteractiveAnswers([{ prompt: "Password: ", echo: false }], "pw")).toEqual(["pw"]);
    expect(keyboardInteractiveAnswers([{ prompt: "Contraseña: ", echo: false }], "pw")).toEqual(["pw"]);
    expect(keyboardInteractiveAnswers([{ prompt: "Password: ", echo: true }], "pw")).toEqual([""]);
    expect(keyboardInteractiveAnswers([{ prompt: "Verification code: ", echo: false }], "pw")).toEqual([""]);
    expect(keyboardInteractiveAnswers([{ prompt: "Password: ", echo: false }, { prompt: "Password again: ", echo: false }], "pw")).toEqual(["", ""]);
  });
});

describe("a class-wide password", () => {
  const row = (id: string, overrides: RosterEntry["overrides"] = {}): RosterEntry => ({ index: 0, row: 2, id, lab: id, overrides });
  it("is warned about, with keys as the safe choice, unless each student has their own", () => {
    const template = { ssh: { password: { env: "CLASS_PASSWORD" } } };
    const warning = sharedPasswordWarning(template, [row("a"), row("b"), row("c")]);
    expect(warning?.en).toMatch(/3 students share[\s\S]*SSH keys are the safe choice/);
    const own = [row("a", { ssh: { password: { env: "PASS_A" } } }), row("b", { ssh: { password: { env: "PASS_B" } } })];
    expect(sharedPasswordWarning(template, own)).toBeUndefined();
    expect(sharedPasswordWarning({ ssh: { privateKey: "~/.ssh/id_ed25519" } }, [row("a"), row("b")])).toBeUndefined();
  });
});
