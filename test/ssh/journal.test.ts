import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  RestoreJournal,
  RestoreStepError,
  SshError,
  SshPool,
  activeRestoreCount,
  listPendingJournals,
  replayJournal,
  sh,
  withRestore,
  type JournalDocument,
  type RestoreStep,
  type SshTarget,
} from "../../src/ssh/index.js";
import { makeClientKey, makeTempDir, processAlive, startSshd, waitUntil, type ClientKey, type Sshd } from "./sshd.js";

const BALANCER = "127.0.0.25";
const WEBSERVER = "127.0.0.26";
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

let dir: string;
let key: ClientKey;
let balancer: Sshd;
let webserver: Sshd;
let targets: SshTarget[];
let pool: SshPool;
let journalDir: string;
let page: string;
let caseNo = 0;

const description = { es: "Cambiar la página de webserver1", en: "Change webserver1's page" };

/** The "lab change" of these tests: a web page on the web server, replaced and put back. */
function pageStep(overrides: Partial<RestoreStep> = {}): RestoreStep {
  return {
    host: "webserver1",
    description,
    before: sh`cat ${page}`,
    change: sh`cp ${page} ${page}.bak && echo changed > ${page}`,
    undo: sh`mv ${page}.bak ${page}`,
    verify: sh`grep -qx original ${page}`,
    verifyDelayMs: 100,
    ...overrides,
  };
}

const readPage = (): string => readFileSync(page, "utf8");

beforeAll(async () => {
  dir = makeTempDir("hagrade-ssh-journal-");
  key = makeClientKey(dir, "id_grader");
  balancer = await startSshd({ address: BALANCER, authorizedKeys: [key.publicKey] });
  webserver = await startSshd({ address: WEBSERVER, authorizedKeys: [key.publicKey] });
  targets = [
    { name: "balancer", host: BALANCER, port: 2222, user: "root", privateKeyPath: key.privateKeyPath, hostKey: balancer.fingerprint },
    { name: "webserver1", host: WEBSERVER, port: 2222, user: "root", privateKeyPath: key.privateKeyPath, hostKey: webserver.fingerprint, jump: "balancer" },
    // A web server whose sshd is down: what `hagrade restore` meets when a machine is off.
    { name: "webserver2", host: WEBSERVER, port: 2299, user: "root", privateKeyPath: key.privateKeyPath, hostKey: webserver.fingerprint },
  ];
  pool = new SshPool(targets, { acceptNewHostKeys: false, connectTimeoutMs: 5000, execTimeoutMs: 10_000, sudo: "auto" });
});

beforeEach(() => {
  caseNo += 1;
  journalDir = path.join(dir, `journal-${caseNo}`);
  page = path.join(dir, `index-${caseNo}.html`);
  writeFileSync(page, "original\n");
});

afterAll(async () => {
  await pool?.closeAll();
  await balancer?.stop();
  await webserver?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("withRestore", () => {
  it("journals before changing, undoes when the body throws, verifies, and removes the finished journal", async () => {
    const journal = RestoreJournal.create({ dir: journalDir, lab: "alumno-01", specPath: "/labs/alumno-01.yaml" });
    let seenInBody = "";
    let journalDuringBody: JournalDocument | undefined;
    const outcome = await withRestore({ journal, pool }, pageStep(), async () => {
      seenInBody = readPage();
      journalDuringBody = JSON.parse(readFileSync(journal.file, "utf8")) as JournalDocument;
      throw new Error("the check broke");
    });
    expect(seenInBody).toBe("changed\n");
    expect(outcome.error).toBeInstanceOf(Error);
    expect((outcome.error as Error).message).toBe("the check broke");
    expect(outcome.value).toBeUndefined();
    expect(outcome.restore).toMatchObject({ status: "verified", restored: true, host: "webserver1" });
    expect(outcome.restore.before?.stdout).toBe("original\n");
    expect(outcome.restore.change?.code).toBe(0);
    expect(outcome.restore.undo.map((u) => u.code)).toEqual([0]);
    expect(outcome.restore.verify.at(-1)?.code).toBe(0);
    expect(readPage()).toBe("original\n");
    expect(existsSync(`${page}.bak`)).toBe(false);

    // What was on disk while the page was changed: everything needed to put it back by hand.
    expect(journalDuringBody).toMatchObject({ format: "hagrade-restore-journal", lab: "alumno-01", specPath: "/labs/alumno-01.yaml", pid: process.pid });
    const entry = journalDuringBody?.entries[0];
    expect(entry).toMatchObject({ host: "webserver1", status: "applied", description, change: pageStep().change, undo: pageStep().undo, verify: pageStep().verify });
    expect(entry?.address).toBe(`root@${WEBSERVER}:2222 via balancer`);
    expect(entry?.before?.stdout).toBe("original\n");
    expect(entry?.history.map((h) => h.status)).toEqual(["pending", "applied"]);
    expect(JSON.stringify(journalDuringBody)).not.toMatch(/PRIVATE KEY|id_grader/);

    expect(journal.entries[0]?.history.map((h) => h.status)).toEqual(["pending", "applied", "undone", "verified"]);
    expect(existsSync(journal.file)).toBe(false);
    expect(listPendingJournals(journalDir)).toEqual([]);
    expect(activeRestoreCount()).toBe(0);
  });

  it("returns the body's value and restores after success", async () => {
    const journal = RestoreJournal.create({ dir: journalDir, lab: "alumno-01" });
    const outcome = await withRestore({ journal, pool }, pageStep({ before: undefined }), async () => readPage().trim());
    expect(outcome).toMatchObject({ value: "changed", restore: { status: "verified", restored: true } });
    expect(outcome.error).toBeUndefined();
    expect(readPage()).toBe("original\n");
  });

  it("aborts a body that outlives its timeout, then restores", async () => {
    const journal = RestoreJournal.create({ dir: journalDir, lab: "alumno-01" });
    let aborted = false;
    const outcome = await withRestore({ journal, pool }, pageStep({ timeoutMs: 300 }), (signal) => {
      signal.addEventListener("abort", () => (aborted = true));
      return new Promise<never>(() => undefined);
    });
    expect(outcome.error).toBeInstanceOf(RestoreStepError);
    expect((outcome.error as RestoreStepError).kind).toBe("body-timeout");
    expect(aborted).toBe(true);
    expect(outcome.restore.status).toBe("verified");
    expect(readPage()).toBe("original\n");
  });

  it("retries verify with backoff while the machine takes a moment to come back", async () => {
    const journal = RestoreJournal.create({ dir: journalDir, lab: "alumno-01" });
    // The undo returns at once and the page comes back a little later, like a web server starting:
    // only once verify has looked twice (a marker per look), however slow the machine is.
    const looks = `${page}.looks`;
    const slowUndo = sh`(for i in $(seq 300); do [ "$(wc -l < ${looks} 2>/dev/null || echo 0)" -ge 2 ] && break; sleep 0.05; done; mv ${page}.bak ${page}) </dev/null >/dev/null 2>&1 &`;
    const verify = sh`echo x >> ${looks}; grep -qx original ${page}`;
    const outcome = await withRestore({ journal, pool }, pageStep({ undo: slowUndo, verify, verifyAttempts: 8, verifyDelayMs: 200 }), async () => "done");
    expect(outcome.restore.status).toBe("verified");
    expect(outcome.restore.verify.length).toBeGreaterThan(1);
    expect(outcome.restore.verify.slice(0, -1).every((v) => v.code === 1)).toBe(true);
    expect(readPage()).toBe("original\n");
  });

  it("a change that fails skips the body and verifies the machine", async () => {
    const journal = RestoreJournal.create({ dir: journalDir, lab: "alumno-01" });
    let ran = false;
    const outcome = await withRestore({ journal, pool }, pageStep({ change: "echo 'no such service' >&2; exit 5" }), async () => {
      ran = true;
    });
    expect(ran).toBe(false);
    expect(outcome.error).toBeInstanceOf(RestoreStepError);
    expect((outcome.error as RestoreStepError).kind).toBe("change-failed");
    expect((outcome.error as RestoreStepError).text.en).toContain("no such service");
    // The page was never touched: verify passes first and the undo (which would fail) is not run.
    expect(outcome.restore).toMatchObject({ status: "verified", restored: true, undo: [] });
    expect(readPage()).toBe("original\n");
  });

  it("when the undo cannot restore, says what is left to do by hand and keeps the journal", async () => {
    const journal = RestoreJournal.create({ dir: journalDir, lab: "alumno-01" });
    const step = pageStep({ undo: "exit 1", verifyAttempts: 2, verifyDelayMs: 50 });
    const outcome = await withRestore({ journal, pool }, step, async () => "done");
    expect(outcome.value).toBe("done");
    expect(outcome.restore.status).toBe("failed");
    expect(outcome.restore.restored).toBe(false);
    expect(outcome.restore.leftToDo).toMatchObject({ host: "webserver1", commands: [step.undo, step.verify], sudo: true });
    expect(outcome.restore.leftToDo?.text.es).toContain(step.undo);
    expect(readPage()).toBe("changed\n");
    const pending = listPendingJournals(journalDir);
    expect(pending).toHaveLength(1);
    expect(pending[0]?.entries[0]?.status).toBe("failed");
    // `hagrade restore` later, with the right undo at hand (the journal's own undo still fails).
    writeFileSync(page, "original\n");
    const replay = await replayJournal(journal.file, pool);
    expect(replay.complete).toBe(true);
    expect(existsSync(journal.file)).toBe(false);
  });

  it("nothing is changed when the state before cannot be read (machine unreachable)", async () => {
    const journal = RestoreJournal.create({ dir: journalDir, lab: "alumno-01" });
    const outcome = await withRestore({ journal, pool }, pageStep({ host: "webserver2" }), async () => "never");
    expect(outcome.error).toBeInstanceOf(SshError);
    expect((outcome.error as SshError).kind).toBe("refused");
    expect(outcome.restore).toMatchObject({ status: "not-started", restored: true });
    expect(existsSync(journalDir) ? readdirSync(journalDir) : []).toEqual([]);
  });
});

describe("replayJournal", () => {
  it("returns precisely what is left to do when the machine cannot be reached", async () => {
    const journal = RestoreJournal.create({ dir: journalDir, lab: "alumno-01" });
    const step = pageStep({ host: "webserver2" });
    journal.add({ host: "webserver2", address: `root@${WEBSERVER}:2299`, description, change: step.change, undo: step.undo, verify: step.verify, sudo: true });
    const replay = await replayJournal(journal.file, pool, { verifyAttempts: 1 });
    expect(replay.complete).toBe(false);
    expect(replay.leftToDo).toEqual([
      expect.objectContaining({ host: "webserver2", address: `root@${WEBSERVER}:2299`, commands: [step.undo, step.verify], description }),
    ]);
    expect(replay.entries[0]?.verify[0]?.error).toBe("refused");
    expect(listPendingJournals(journalDir).map((j) => j.file)).toEqual([journal.file]);
  });
});

describe("replay reaches only the machine the change was made on", () => {
  const OTHER = "127.0.0.27";
  const SAME = "127.0.0.28";
  /** sshd logs every login it accepts: none may come from a replay refused. */
  const accepted = (sshd: Sshd) => sshd.log().split("\n").filter((l) => /Accepted publickey/.test(l)).length;

  it("refuses a journal of another lab, and a spec whose machine is another, naming both; nothing reaches that machine", async () => {
    const other = await startSshd({ address: OTHER, authorizedKeys: [key.publicKey] });
    const otherPool = new SshPool(
      targets.map((t) => (t.name === "webserver1" ? { ...t, host: OTHER, hostKey: other.fingerprint } : t)),
      { acceptNewHostKeys: false, connectTimeoutMs: 5000, execTimeoutMs: 10_000, sudo: "auto" },
    );
    try {
      const journal = RestoreJournal.create({ dir: journalDir, lab: "alumno-01" });
      const outcome = await withRestore({ journal, pool }, pageStep({ undo: "exit 1", verifyAttempts: 1 }), async () => "done");
      expect(outcome.restore.status).toBe("failed");
      const written = JSON.parse(readFileSync(journal.file, "utf8")) as JournalDocument;
      expect(written.entries[0]?.target).toMatchObject({
        name: "webserver1",
        user: "root",
        host: WEBSERVER,
        port: 2222,
        fingerprint: webserver.fingerprint,
        via: { name: "balancer", host: BALANCER, port: 2222, fingerprint: balancer.fingerprint },
      });
      expect(readPage()).toBe("changed\n");

      // `hagrade restore --spec B.yaml` with alumno-01's journal.
      const wrongLab = await replayJournal(journal.file, pool, { lab: "alumno-02", verifyAttempts: 1 });
      expect(wrongLab.complete).toBe(false);
      expect(wrongLab.entries[0]).toMatchObject({ status: "refused" });
      expect(wrongLab.entries[0]?.refused?.en).toContain('lab "alumno-01"');
      expect(wrongLab.entries[0]?.refused?.en).toContain('lab "alumno-02"');
      expect(wrongLab.entries[0]?.undo).toEqual([]);
      expect(wrongLab.entries[0]?.verify).toEqual([]);

      // A spec of the same lab name whose webserver1 is another machine.
      const before = accepted(other);
      const wrongMachine = await replayJournal(journal.file, otherPool, { lab: "alumno-01", verifyAttempts: 1 });
      expect(wrongMachine.entries[0]).toMatchObject({ status: "refused" });
      expect(wrongMachine.entries[0]?.refused?.en).toContain(`root@${WEBSERVER}:2222 via root@${BALANCER}:2222`);
      expect(wrongMachine.entries[0]?.refused?.en).toContain(`root@${OTHER}:2222 via root@${BALANCER}:2222`);
      expect(wrongMachine.leftToDo[0]?.text.en).toContain(webserver.fingerprint);
      expect(accepted(other)).toBe(before);
      expect(readPage()).toBe("changed\n");
      expect(listPendingJournals(journalDir).map((j) => j.file)).toEqual([journal.file]);

      // The right spec reaches the machine (put back by hand meanwhile: the journal's undo fails).
      writeFileSync(page, "original\n");
      const right = await replayJournal(journal.file, pool, { lab: "alumno-01" });
      expect(right.entries[0]?.verify[0]?.code).toBe(0);
      expect(right.complete).toBe(true);
    } finally {
      await otherPool.closeAll();
      await other.stop();
    }
  });

  it("refuses a machine at the same address whose host key is not the one journaled, before logging in", async () => {
    const first = await startSshd({ address: SAME, authorizedKeys: [key.publicKey] });
    const firstTargets = targets.map((t) => (t.name === "webserver1" ? { ...t, host: SAME, hostKey: first.fingerprint } : t));
    const firstPool = new SshPool(firstTargets, { acceptNewHostKeys: false, connectTimeoutMs: 5000, execTimeoutMs: 10_000, sudo: "auto" });
    const journal = RestoreJournal.create({ dir: journalDir, lab: "alumno-01" });
    try {
      const outcome = await withRestore({ journal, pool: firstPool }, pageStep({ undo: "exit 1", verifyAttempts: 1 }), async () => "done");
      expect(outcome.restore.status).toBe("failed");
    } finally {
      await firstPool.closeAll();
      await first.stop();
    }
    // Another lab's web server now answers at the same address (every student's is 192.168.100.11),
    // and the spec at hand trusts its key.
    const second = await startSshd({ address: SAME, authorizedKeys: [key.publicKey] });
    const secondPool = new SshPool(
      targets.map((t) => (t.name === "webserver1" ? { ...t, host: SAME, hostKey: second.fingerprint } : t)),
      { acceptNewHostKeys: false, connectTimeoutMs: 5000, execTimeoutMs: 10_000, sudo: "auto" },
    );
    try {
      const replay = await replayJournal(journal.file, secondPool, { lab: "alumno-01", verifyAttempts: 1 });
      expect(replay.complete).toBe(false);
      expect(replay.entries[0]).toMatchObject({ status: "refused", undo: [], verify: [] });
      expect(replay.entries[0]?.refused?.en).toContain(second.fingerprint);
      expect(replay.entries[0]?.refused?.en).toContain(first.fingerprint);
      expect(accepted(second)).toBe(0);
      expect(readPage()).toBe("changed\n");
    } finally {
      await secondPool.closeAll();
      await second.stop();
    }
  });
});

interface Child {
  pid: number;
  journalFile: string;
  exitFile: string;
  exited: Promise<void>;
  output: () => string;
  cleanup: () => void;
}

/** Starts the grader child (npx tsx) and waits until its change is applied. */
async function startChild(step: RestoreStep): Promise<Child> {
  const exitFile = path.join(dir, `exit-${caseNo}`);
  const child = spawn("npx", ["tsx", "test/ssh/restore-child.ts"], {
    cwd: repoRoot,
    env: { ...process.env, HAGRADE_RESTORE_CHILD: JSON.stringify({ targets, journalDir, step, exitFile }) },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so cleanup reaches npx, tsx and the grader alike.
    detached: true,
  });
  const killGroup = (): void => {
    try {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const ready = await waitUntil(() => /APPLIED \d+ \S+/.test(out) || child.exitCode !== null, 60_000, 50);
  const match = /APPLIED (\d+) (\S+)/.exec(out);
  if (!ready || !match) {
    killGroup();
    throw new Error(`child did not apply its change: ${out}`);
  }
  return { pid: Number(match[1]), journalFile: match[2] ?? "", exitFile, exited, output: () => out, cleanup: killGroup };
}

describe("a journal that does not reach the disk whole", () => {
  it("under a file size limit (ulimit -f), nothing is changed and the run says the journal could not be written", async () => {
    const exitFile = path.join(dir, `exit-${caseNo}`);
    // The state before is large, so the journal outgrows 4 KiB: writeSync then writes part of it.
    const step = pageStep({ before: sh`printf '%03500d' 0; cat ${page}` });
    const child = spawn("bash", ["-c", 'ulimit -f 4; exec node --import tsx test/ssh/restore-child.ts'], {
      cwd: repoRoot,
      env: { ...process.env, HAGRADE_STATE_DIR: path.join(dir, "state"), HAGRADE_RESTORE_CHILD: JSON.stringify({ targets, journalDir, step, exitFile }) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    await new Promise<void>((resolve) => child.once("exit", () => resolve()));
    expect(out).toMatch(/FINISHED "not-started" journal-unwritable/);
    expect(out).not.toContain("APPLIED");
    expect(readPage()).toBe("original\n");
    // No journal, whole or cut, is left to mislead `hagrade restore`.
    expect(existsSync(journalDir) ? readdirSync(journalDir) : []).toEqual([]);
  });

  it("a journal cut short is listed as pending with its path and why, not skipped", async () => {
    const journal = RestoreJournal.create({ dir: journalDir, lab: "alumno-01" });
    const step = pageStep();
    journal.add({ host: "webserver1", address: `root@${WEBSERVER}:2222 via balancer`, description, change: step.change, undo: step.undo, verify: step.verify, sudo: true });
    const text = readFileSync(journal.file, "utf8");
    writeFileSync(journal.file, text.slice(0, Math.floor(text.length / 2)));
    const pending = listPendingJournals(journalDir);
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({ file: journal.file, lab: "alumno-01", entries: [] });
    expect(pending[0]?.unreadable).toMatch(/cut short or damaged/);
  });
});

describe("an interrupted grader", () => {
  it("kill -9 in the middle leaves a pending journal that replayJournal completes", async () => {
    const child = await startChild(pageStep());
    try {
      expect(readPage()).toBe("changed\n");
      const whileAlive = listPendingJournals(journalDir);
      expect(whileAlive).toHaveLength(1);
      expect(whileAlive[0]?.writerAlive).toBe(true);
      // Replaying under a live grader would undo its change behind its back.
      expect((await replayJournal(child.journalFile, pool)).writerAlive).toBe(true);
      expect(readPage()).toBe("changed\n");

      process.kill(child.pid, "SIGKILL");
      await child.exited;
      expect(await waitUntil(() => !processAlive(child.pid), 5000)).toBe(true);
    } finally {
      child.cleanup();
    }
    expect(readPage()).toBe("changed\n");
    const pending = listPendingJournals(journalDir);
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({ file: child.journalFile, lab: "alumno-01", specPath: "/labs/alumno-01.yaml", writerAlive: false });
    expect(pending[0]?.entries.map((e) => [e.host, e.status])).toEqual([["webserver1", "applied"]]);

    const replay = await replayJournal(child.journalFile, pool);
    expect(replay.complete).toBe(true);
    expect(replay.leftToDo).toEqual([]);
    expect(replay.entries[0]?.status).toBe("verified");
    expect(readPage()).toBe("original\n");
    expect(existsSync(`${page}.bak`)).toBe(false);
    expect(listPendingJournals(journalDir)).toEqual([]);
  });

  it("SIGTERM runs the undo before the grader exits with 143", async () => {
    const child = await startChild(pageStep());
    try {
      expect(readPage()).toBe("changed\n");
      process.kill(child.pid, "SIGTERM");
      await child.exited;
    } finally {
      child.cleanup();
    }
    expect(readFileSync(child.exitFile, "utf8")).toBe("143");
    expect(child.output()).not.toContain("FINISHED");
    expect(readPage()).toBe("original\n");
    expect(listPendingJournals(journalDir)).toEqual([]);
  });

  it("SIGINT does the same and exits with 130", async () => {
    const child = await startChild(pageStep());
    try {
      process.kill(child.pid, "SIGINT");
      await child.exited;
    } finally {
      child.cleanup();
    }
    expect(readFileSync(child.exitFile, "utf8")).toBe("130");
    expect(readPage()).toBe("original\n");
    expect(listPendingJournals(journalDir)).toEqual([]);
  });
});
