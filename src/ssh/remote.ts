/**
 * The remote side of one command. sshd does not end a command when its channel closes (without a
 * tty it only closes the pipes), and refuses "signal" requests for root sessions without
 * privilege separation, so a command that hangs on a student's machine would outlive the grader.
 * This POSIX sh wrapper runs the command in its own process group (setsid) and kills that group:
 *  - when the channel closes: a watchdog blocks reading the channel's stdin, which the grader never
 *    writes nor closes, and sees end-of-file only when sshd tears the channel down;
 *  - after a deadline of its own, a little later than the grader's, for a link that hangs instead
 *    of closing (and for commands that read the grader's stdin, where the watchdog cannot run).
 * Daemons a command starts (service apache2 start) make their own session and are left alone.
 */
import { shQuote } from "./quote.js";

// $1 command, $2 deadline in seconds, $3 "1" when the command reads the channel's stdin.
const WRAPPER = [
  "exec 3<&0",
  // A non-root login may lack the sbin folders (ipvsadm, apache2ctl); C locale keeps output parseable.
  'PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"; LC_ALL=C; export PATH LC_ALL',
  'run() { if command -v setsid >/dev/null 2>&1; then exec setsid "$@"; fi; exec "$@"; }',
  'if [ "$3" = 1 ]; then run sh -c "$1" <&3 3<&- & else run sh -c "$1" </dev/null 3<&- & fi',
  "c=$!",
  'stop() { kill -9 -"$c" 2>/dev/null || kill -9 "$c" 2>/dev/null; }',
  "w=",
  'if [ "$3" != 1 ]; then ( while read -r _; do :; done; stop ) <&3 >/dev/null 2>&1 & w=$!; fi',
  '( sleep "$2" & s=$!; trap \'kill "$s" 2>/dev/null; exit 0\' TERM; wait "$s" && stop ) </dev/null >/dev/null 2>&1 &',
  "d=$!",
  // The command holds the channel's stdout/stderr; the wrapper lets go of them, or the shell's own
  // "Killed" notice on a closed channel would SIGPIPE it before it ends its helpers.
  "exec 3<&- >/dev/null 2>&1",
  'wait "$c"; r=$?',
  'kill "$d" $w 2>/dev/null',
  'exit "$r"',
].join("\n");

export interface RemoteCommandOptions {
  /** Seconds after which the remote side kills the command on its own. */
  deadlineSeconds: number;
  /** The command reads data the grader sends on stdin. */
  stdin: boolean;
  /** Run as root through `sudo -n` (never prompts). */
  sudo: boolean;
}

/** The text sent to sshd for one command (read by the login shell, which must be POSIX-like). */
export function remoteCommand(command: string, options: RemoteCommandOptions): string {
  const seconds = Math.max(1, Math.ceil(options.deadlineSeconds));
  const wrapped = `sh -c ${shQuote(WRAPPER)} hagrade ${shQuote(command)} ${seconds} ${options.stdin ? 1 : 0}`;
  return options.sudo ? `sudo -n -- ${wrapped}` : wrapped;
}

/**
 * One round trip that tells whether the login is root and, if not, whether `sudo -n` works.
 * First stdout line: the uid; exit 0 when privileged commands can run.
 */
export const PRIVILEGE_PROBE = 'u=$(id -u); echo "$u"; [ "$u" = 0 ] || sudo -n true';
