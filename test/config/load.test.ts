import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatProblems, loadSpec, MAX_SPEC_BYTES, parseSpecText, type SpecLoadResult, type SpecProblem } from "../../src/config/load.js";
import { makeWorkspace, type Workspace } from "./workspace.js";

let workspace: Workspace;
beforeEach(async () => {
  workspace = await makeWorkspace();
});
afterEach(async () => {
  await workspace.remove();
});

const CORE = [
  "lab: alumno-01",
  "vip:",
  "  address: 192.168.0.10",
  "balancer:",
  "  internalAddress: 192.168.100.1",
  "backends:",
  "  - name: webserver1",
  "    address: 192.168.100.11",
  "  - name: webserver2",
  "    address: 192.168.100.12",
  "",
].join("\n");

function problemsOf(result: SpecLoadResult): SpecProblem[] {
  if (result.ok) throw new Error(`expected problems, the spec loaded: ${JSON.stringify(result.spec)}`);
  return result.problems;
}

function expectReadable(problems: SpecProblem[]): void {
  for (const lang of ["es", "en"] as const) {
    const text = formatProblems(problems, lang, { sourceName: "lab.yaml" });
    expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(text).not.toMatch(/ZodError|TypeError|ReferenceError|undefined/);
    for (const problem of problems) {
      expect(problem.message[lang].length).toBeGreaterThan(10);
      expect(problem.fix[lang].length).toBeGreaterThan(5);
    }
  }
}

describe("loading a valid spec", () => {
  it("loads the YAML fixture with defaults applied and paths made absolute", async () => {
    const result = await loadSpec(workspace.file("good.yaml"), undefined, { env: { HAGRADE_TEST_PASSPHRASE: "x" } });
    if (!result.ok) throw new Error(formatProblems(result.problems, "en"));
    const { spec } = result;
    expect(spec.lab).toBe("alumno-01");
    expect(spec.student).toEqual({ id: "A001", name: "Ana Pérez", email: "ana@example.org" });
    expect(spec.vip).toEqual({ address: "192.168.0.10", port: 80, path: "/" });
    expect(spec.backends.map((backend) => [backend.name, backend.identity, backend.route, backend.loadfactor]))
      .toEqual([["webserver1", "1", "wsrv1", 3], ["webserver2", "7", "alpha", 1]]);
    expect(spec.backends[1]?.service).toEqual({ stop: "service apache2 stop", start: "service apache2 start" });
    expect(spec.ssh.privateKey).toBe(workspace.keyPath);
    // known_hosts may not exist yet (trust on first use); its folder does.
    expect(spec.ssh.knownHosts).toBe(workspace.file("known_hosts"));
    expect(spec.timeouts).toEqual({ connect: 3000, request: 5000, ssh: 10_000, failover: 20_000, rejoin: 90_000 });
    expect(result.warnings).toEqual([]);
  });

  it("warns, without failing, when an { env } secret is not set now", async () => {
    const result = await loadSpec(workspace.file("good.yaml"), undefined, { env: {} });
    expect(result.ok).toBe(true);
    expect(result.warnings.map((warning) => warning.path)).toEqual(["ssh.passphrase"]);
    expect(result.warnings[0]?.message.en).toContain("HAGRADE_TEST_PASSPHRASE");
  });

  it("loads JSON (tabs, a $schema key) by content, whatever the extension", async () => {
    const text = await readFile(workspace.file("good.json"), "utf8");
    await writeFile(workspace.file("spec.txt"), text);
    const result = await loadSpec(workspace.file("spec.txt"));
    if (!result.ok) throw new Error(formatProblems(result.problems, "en"));
    expect(result.spec.part).toBe("lvs");
    expect(result.spec.expect).toEqual({ lbAlgo: "wrr", persistenceTimeout: 0, cookieName: "ROUTEID" });
    expect(result.spec.backends.map((backend) => backend.weight)).toEqual([3, 1]);
  });

  it("accepts CRLF line endings and a UTF-8 BOM, giving the same spec", async () => {
    const text = await readFile(workspace.file("good.yaml"), "utf8");
    await writeFile(workspace.file("crlf.yaml"), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text.replace(/\n/g, "\r\n"))]));
    const env = { HAGRADE_TEST_PASSPHRASE: "x" };
    const plain = await loadSpec(workspace.file("good.yaml"), undefined, { env });
    const windows = await loadSpec(workspace.file("crlf.yaml"), undefined, { env });
    expect(windows.ok).toBe(true);
    expect(windows.ok && plain.ok && windows.spec).toEqual(plain.ok && plain.spec);
    const inMemory = await parseSpecText(`\uFEFF${CORE.replace(/\n/g, "\r\n")}`, { baseDir: workspace.dir, sourceName: "memory" });
    expect(inMemory.ok).toBe(true);
  });

  it("parses in-memory specs, resolving relative paths against the given folder", async () => {
    const result = await parseSpecText(`${CORE}ssh:\n  privateKey: keys/id_test\n  password: { file: ./secret.txt }\n`, { baseDir: workspace.dir, sourceName: "template alumno-07" });
    expect(problemsOf(result).map((problem) => problem.path)).toEqual(["ssh.password.file"]);
    await writeFile(workspace.file("secret.txt"), "pw\n");
    const again = await parseSpecText(`${CORE}ssh:\n  privateKey: keys/id_test\n  password: { file: ./secret.txt }\n`, { baseDir: workspace.dir, sourceName: "template alumno-07" });
    if (!again.ok) throw new Error(formatProblems(again.problems, "en"));
    expect(again.spec.ssh.privateKey).toBe(workspace.keyPath);
    expect(again.spec.ssh.password).toEqual({ file: workspace.file("secret.txt") });
  });

  it("expands ~ to the home folder", async () => {
    await mkdir(workspace.file("home/.ssh"), { recursive: true });
    await writeFile(workspace.file("home/.ssh/id_ed25519"), workspace.keyText, { mode: 0o600 });
    const result = await parseSpecText(`${CORE}ssh:\n  privateKey: ~/.ssh/id_ed25519\n  knownHosts: ~/.ssh/known_hosts\n`, { baseDir: workspace.dir, sourceName: "memory", homeDir: workspace.file("home") });
    if (!result.ok) throw new Error(formatProblems(result.problems, "en"));
    expect(result.spec.ssh.privateKey).toBe(workspace.file("home/.ssh/id_ed25519"));
    expect(result.spec.ssh.knownHosts).toBe(workspace.file("home/.ssh/known_hosts"));
  });

  it("loads the contract's own example (docs/spec-contract.yaml) once its files exist", async () => {
    const contract = await readFile(new URL("../../docs/spec-contract.yaml", import.meta.url), "utf8");
    await mkdir(workspace.file("home/.ssh"), { recursive: true });
    await writeFile(workspace.file("home/.ssh/id_ed25519"), workspace.keyText, { mode: 0o600 });
    await writeFile(workspace.file("secret.txt"), "pw\n");
    const result = await parseSpecText(contract, { baseDir: workspace.dir, sourceName: "spec-contract.yaml", homeDir: workspace.file("home"), env: { HAGRADE_KEY_PASSPHRASE: "x" } });
    if (!result.ok) throw new Error(formatProblems(result.problems, "en"));
    const [first, second] = result.spec.backends;
    expect(first).toMatchObject({ identity: "1", weight: 3, loadfactor: 3, route: "wsrv1", service: {} });
    expect(second).toMatchObject({ identity: "2", route: "wsrv2", loadfactor: 1 });
    expect(result.spec.rubric.points).toEqual({ "net.vip-http": 1 });
    expect(result.spec.ssh.password).toEqual({ file: workspace.file("secret.txt") });
  });

  it("lays overrides over the file and validates them too", async () => {
    const result = await loadSpec(workspace.file("good.json"), { lang: "en", vip: { port: 8080 } });
    expect(result.ok && [result.spec.lang, result.spec.vip.port, result.spec.vip.address]).toEqual(["en", 8080, "192.168.0.10"]);
    const bad = await loadSpec(workspace.file("good.json"), { part: "proxi" as "proxy" });
    const [problem] = problemsOf(bad);
    expect(problem?.path).toBe("part");
    expect(problem?.fix.en).toContain("proxy");
  });
});

interface BadCase {
  file: string;
  path: string;
  /** Text the English message or fix must contain. */
  says: RegExp;
  line?: number;
  /** Whether this mistake is the only problem reported. */
  only?: boolean;
}

const BAD: BadCase[] = [
  { file: "unknown-field.yaml", path: "vip.adress", says: /Did you mean "address"/, line: 3, only: true },
  { file: "misspelled-section.yaml", path: "backend", says: /Did you mean "backends"/, line: 6, only: true },
  { file: "field-in-wrong-section.yaml", path: "vip.weight", says: /belongs in backends\[\]/, only: true },
  { file: "wrong-type.yaml", path: "vip.port", says: /Remove the quotes: port: 80/, line: 4, only: true },
  { file: "bad-ip.yaml", path: "backends[1].address", says: /IPv4.*"192\.168\.100\.300"/, line: 10, only: true },
  { file: "port-out-of-range.yaml", path: "vip.port", says: /70000.*maximum is 65535/, only: true },
  { file: "missing-field.yaml", path: "balancer.internalAddress", says: /missing; it is required[\s\S]*internalAddress: 192\.168\.100\.1/, only: true },
  { file: "one-backend.yaml", path: "backends", says: /at least 2/, only: true },
  { file: "duplicate-names.yaml", path: "backends[1].name", says: /"webserver1", the same as backends\[0\]/, only: true },
  { file: "regex-does-not-compile.yaml", path: "identity.pattern", says: /does not compile/, only: true },
  { file: "regex-without-group.yaml", path: "identity.pattern", says: /0 capture groups/, only: true },
  { file: "regex-backtracks.yaml", path: "identity.pattern", says: /repeats "\(\\d\+\)\+"[\s\S]*Repeat only once/, only: true },
  { file: "missing-key-file.yaml", path: "ssh.privateKey", says: /Private key file not found: .*missing_ed25519/, only: true },
  { file: "public-key-as-private.yaml", path: "ssh.privateKey", says: /PUBLIC key/, only: true },
  { file: "known-hosts-folder-missing.yaml", path: "ssh.knownHosts", says: /folder .*no-such-folder does not exist/, only: true },
  { file: "yaml-syntax-error.yaml", path: "", says: /YAML syntax error on line 7/, line: 7, only: true },
  { file: "duplicate-key.yaml", path: "lab", says: /written twice \(first on line 1\)/, line: 11, only: true },
  { file: "tab-indent.yaml", path: "", says: /Tab used for indentation on line 3/, line: 3, only: true },
  { file: "two-documents.yaml", path: "", says: /more than one YAML document/, only: true },
  { file: "alias-bomb.yaml", path: "", says: /too many YAML aliases/, only: true },
  { file: "negative-timeout.yaml", path: "timeouts.failover", says: /-5000; the minimum is 100/, only: true },
  { file: "timeout-in-seconds.yaml", path: "timeouts.connect", says: /did you mean connect: 3000/, only: true },
  { file: "fraction-loadfactor.yaml", path: "backends[0].loadfactor", says: /whole number; found 2\.5/, only: true },
  { file: "step-of-other-part.yaml", path: "step", says: /"sticky" does not belong to part lvs/, only: true },
  { file: "agent-yes-as-text.yaml", path: "ssh.agent", says: /read as text/, only: true },
  { file: "empty.yaml", path: "", says: /empty/, only: true },
  { file: "not-a-map.yaml", path: "", says: /must be a map of fields/, only: true },
];

describe("bad spec files", () => {
  it.each(BAD)("$file → a clear problem at $path", async ({ file, path: fieldPath, says, line, only }) => {
    const problems = problemsOf(await loadSpec(path.join(workspace.dir, "bad", file)));
    if (only === true) expect(problems).toHaveLength(1);
    const problem = problems.find((candidate) => candidate.path === fieldPath);
    expect(problem, formatProblems(problems, "en")).toBeDefined();
    expect(`${problem?.message.en} ${problem?.fix.en}`).toMatch(says);
    if (line !== undefined) expect(problem?.line).toBe(line);
    expectReadable(problems);
  });

  it("reports every problem of a file at once, in file order", async () => {
    const text = [
      "lab: alumno-01",
      "part: lvs",
      "step: sticky",
      "vip:",
      "  address: 192.168.0.1000",
      "balancer:",
      "  internalAddress: 192.168.100.1",
      "backends:",
      "  - name: webserver1",
      "    address: 192.168.100.11",
      "  - name: webserver1",
      "    address: 192.168.100.12",
      "    wieght: 2",
      "timeouts:",
      "  connect: 3",
      "ssh:",
      "  privateKey: ./nope",
    ].join("\n");
    const problems = problemsOf(await parseSpecText(text, { baseDir: workspace.dir, sourceName: "lab.yaml" }));
    expect(problems.map((problem) => [problem.path, problem.line])).toEqual([
      ["step", 3],
      ["vip.address", 5],
      ["backends[1].name", 11],
      ["backends[1].wieght", 13],
      ["timeouts.connect", 15],
      ["ssh.privateKey", 17],
    ]);
  });

  it("names JSON as JSON in syntax errors, with the line", async () => {
    const [problem, ...rest] = problemsOf(await parseSpecText('{\n  "lab": "x",\n  "vip": { "address": "1.2.3.4" \n  "balancer": {}\n}\n', { baseDir: workspace.dir, sourceName: "lab.json" }));
    expect(rest).toEqual([]);
    expect(problem?.message.en).toMatch(/^JSON syntax error on line 4/);
    expect(problem?.line).toBe(4);
  });

  it("refuses absurd nesting instead of overflowing the stack", async () => {
    const [problem] = problemsOf(await parseSpecText(`lab: ${"[".repeat(100_000)}`, { baseDir: workspace.dir, sourceName: "deep.yaml" }));
    expect(problem?.message.en).toMatch(/nested too deeply/);
  });

  it("says which byte is not UTF-8 and on which line", async () => {
    const bytes = Buffer.concat([Buffer.from(`${CORE}student:\n  name: "Ana P`), Buffer.from([0xe9]), Buffer.from("rez\"\n")]);
    await writeFile(workspace.file("latin1.yaml"), bytes);
    const [problem, ...rest] = problemsOf(await loadSpec(workspace.file("latin1.yaml")));
    expect(rest).toEqual([]);
    expect(problem?.message.en).toMatch(/not UTF-8 text: byte 0xE9 on line 12/);
    expect(problem?.line).toBe(12);
  });

  it("recognises a file saved as UTF-16", async () => {
    await writeFile(workspace.file("utf16.yaml"), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(CORE, "utf16le")]));
    const [problem] = problemsOf(await loadSpec(workspace.file("utf16.yaml")));
    expect(problem?.message.en).toContain("UTF-16");
  });

  it("names a huge value without echoing it", async () => {
    const huge = "x".repeat(100_000);
    const problems = problemsOf(await parseSpecText(`${CORE}student:\n  name: "${huge}"\n`, { baseDir: workspace.dir, sourceName: "memory" }));
    expect(problems.map((problem) => problem.path)).toEqual(["student.name"]);
    expect(problems[0]?.message.en).toMatch(/too long: 100000 characters \(at most 200\)/);
    expect(formatProblems(problems, "en").length).toBeLessThan(1000);
  });

  it("refuses a file over the size cap before parsing it", async () => {
    await writeFile(workspace.file("big.yaml"), `${CORE}# ${"-".repeat(MAX_SPEC_BYTES)}\n`);
    const [problem] = problemsOf(await loadSpec(workspace.file("big.yaml")));
    expect(problem?.message.en).toMatch(/the most allowed is 1048576/);
  });

  it("explains a missing spec, a folder given as spec and an empty file", async () => {
    const missing = problemsOf(await loadSpec(workspace.file("nope.yaml")));
    expect(missing[0]?.message.en).toMatch(/does not exist/);
    expect(missing[0]?.fix.en).toMatch(/hagrade init/);
    const folder = problemsOf(await loadSpec(workspace.dir));
    expect(folder[0]?.message.en).toMatch(/is a folder/);
    await writeFile(workspace.file("zero.yaml"), "");
    expect(problemsOf(await loadSpec(workspace.file("zero.yaml")))[0]?.message.en).toMatch(/zero\.yaml is empty/);
  });

  it("refuses a key path that is a folder and a secret file that is missing", async () => {
    const problems = problemsOf(await parseSpecText(`${CORE}ssh:\n  privateKey: ./keys\n  passphrase: { file: ./missing.txt }\n`, { baseDir: workspace.dir, sourceName: "memory" }));
    expect(problems.map((problem) => problem.path)).toEqual(["ssh.privateKey", "ssh.passphrase.file"]);
    expect(problems[0]?.message.en).toMatch(/is a folder/);
    expect(problems[1]?.message.en).toMatch(/Secret file not found/);
  });

  it("checks rubric ids against the known checks when given them", async () => {
    const problems = problemsOf(await parseSpecText(`${CORE}rubric:\n  points:\n    net.vip-htp: 2\n`, {
      baseDir: workspace.dir, sourceName: "memory", checkIds: ["net.vip-http", "proxy.sticky"],
    }));
    expect(problems.map((problem) => [problem.path, problem.fix.en])).toEqual([['rubric.points["net.vip-htp"]', 'Did you mean "net.vip-http"?']]);
  });

  it("renders problems in Spanish and English for the CLI", async () => {
    const problems = problemsOf(await loadSpec(path.join(workspace.dir, "bad", "unknown-field.yaml")));
    const es = formatProblems(problems, "es", { sourceName: "lab.yaml" });
    expect(es).toContain("lab.yaml: 1 problema en la especificación de la práctica:");
    expect(es).toContain('vip.adress (línea 3): Campo desconocido "adress" en vip.');
    expect(es).toContain('Solución: ¿Querías decir "address"?');
    const en = formatProblems(problems, "en");
    expect(en).toContain('1. vip.adress (line 3): Unknown field "adress" in vip.');
  });
});

describe("secrets in problems", () => {
  const SECRETS = ["Hunter2-S3cret-Value", "Other-S3cret-Value", "Third-S3cret-Value", "Fourth-S3cret-Value"];

  it("never echoes a secret's value, and warns about inline ones", async () => {
    const result = await loadSpec(path.join(workspace.dir, "bad", "inline-secret.yaml"));
    const problems = problemsOf(result);
    expect(problems.map((problem) => problem.path)).toEqual(["backends[0].ssh.passphrase", "backends[1].ssh.password", "ssh.pasword"]);
    expect(result.warnings.map((warning) => warning.path)).toEqual(["balancer.ssh.password"]);
    expect(result.warnings[0]?.fix.en).toContain("{ env: HAGRADE_SSH_PASSWORD }");
    const everything = [
      JSON.stringify(result),
      ...(["es", "en"] as const).flatMap((lang) => [formatProblems(problems, lang), formatProblems(result.warnings, lang, { kind: "warnings" })]),
    ].join("\n");
    for (const secret of SECRETS) expect(everything).not.toContain(secret);
  });

  it("does not echo a secret written where a plain value was expected either", async () => {
    // A password pasted into the user field by mistake: the user field is not secret, but the value is.
    const text = `${CORE}ssh:\n  password: "Hunter2 S3cret!Value"\n  user: "Hunter2 S3cret!Value"\n`;
    const result = await parseSpecText(text, { baseDir: workspace.dir, sourceName: "memory" });
    const problems = problemsOf(result);
    expect(problems.map((problem) => problem.path)).toEqual(["ssh.user"]);
    expect(formatProblems(problems, "en")).not.toContain("Hunter2 S3cret!Value");
    expect(formatProblems(problems, "en")).toContain("***");
  });
});
