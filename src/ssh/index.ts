/**
 * hagrade's SSH layer: one connection per lab machine (web servers through the balancer),
 * commands with deadlines that really end on the remote side, host key checking like OpenSSH,
 * typed bilingual errors, and the restore journal for disruptive checks.
 *
 *     const pool = new SshPool(targets, { acceptNewHostKeys, connectTimeoutMs, execTimeoutMs, sudo: "auto" });
 *     const { stdout } = await pool.get("balancer").exec("ipvsadm -Ln", { sudo: true });
 *     const { value, error, restore } = await withRestore({ journal, pool }, step, async (signal) => ...);
 */
export { SshPool, SshHost } from "./pool.js";
export { localCommandsSupported } from "./local.js";
export type { CommandTransport, ExecChannel } from "./channel.js";
export type { SshTarget, SshPoolOptions, SudoMode, ExecOptions, ExecResult, CommandRecord, ConnectInfo } from "./pool.js";
export { SshError, isSshError, sshErrorBlame, sshErrorOutcome, sshErrorVerdict } from "./errors.js";
export { sshCommandEvidence } from "./exec.js";
export type { SshErrorKind, SshHostRef, SshErrorDetails, SshBlame } from "./errors.js";
export { shQuote, sh, shRaw, ShellFragment } from "./quote.js";
export {
  defaultKnownHostsPath,
  fingerprintOf,
  normalizeFingerprint,
  knownHostsName,
  knownHostsNameVia,
  parseKnownHosts,
  hostFieldMatches,
  checkHostKey,
} from "./hostkeys.js";
export type { HostKeyDecision, HostKeyPolicy, KnownHostsEntry, JumpRef } from "./hostkeys.js";
export {
  RestoreJournal,
  listPendingJournals,
  knownJournalDirs,
  rememberJournalDir,
  stateDir,
  describeTarget,
  writeDurably,
} from "./journal.js";
export type { RestoreStatus, JournalEntry, JournalDocument, JournalTarget, JournalSource, BeforeState, PendingJournal, RestoreJournalOptions } from "./journal.js";
export { RestoreStepError, withRestore, journalTarget, configureRestoreSignals, activeRestoreCount } from "./restore.js";
export type { RestoreStep, RestoreContext, RestoreOutcome, RestoreReport, CommandSummary, ManualRestore, RestoreSignalOptions } from "./restore.js";
export { replayJournal } from "./replay.js";
export type { ReplayReport, ReplayOptions } from "./replay.js";
