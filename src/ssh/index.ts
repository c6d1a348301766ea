export { SshPool, SshHost } from "./pool.js";
export type { SshTarget, SshPoolOptions, SudoMode, ExecOptions, ExecResult, CommandRecord, ConnectInfo } from "./pool.js";
export { SshError, isSshError, sshErrorBlame, sshErrorOutcome, sshErrorVerdict } from "./errors.js";
export type { SshErrorKind, SshHostRef, SshErrorDetails, SshBlame } from "./errors.js";
export { shQuote, sh, shRaw, ShellFragment } from "./quote.js";
export {
  defaultKnownHostsPath,
  fingerprintOf,
  normalizeFingerprint,
  knownHostsName,
  parseKnownHosts,
  hostFieldMatches,
  checkHostKey,
} from "./hostkeys.js";
export type { HostKeyDecision, HostKeyPolicy, KnownHostsEntry } from "./hostkeys.js";
export {
  RestoreJournal,
  RestoreStepError,
  withRestore,
  replayJournal,
  listPendingJournals,
  configureRestoreSignals,
  activeRestoreCount,
} from "./journal.js";
export type {
  RestoreStatus,
  RestoreStep,
  RestoreContext,
  RestoreOutcome,
  RestoreReport,
  JournalEntry,
  JournalDocument,
  BeforeState,
  CommandSummary,
  ManualRestore,
  PendingJournal,
  ReplayReport,
  ReplayOptions,
  RestoreJournalOptions,
  RestoreSignalOptions,
} from "./journal.js";
