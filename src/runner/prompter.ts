/**
 * A person at the terminal, for the steps hagrade cannot do itself: without SSH to a web server
 * (a Windows host with IIS, a VM without sshd), `--interactive` asks the person running it to stop
 * and start that server while hagrade watches the VIP. A check never prints: it asks through this
 * interface, which the CLI gives a terminal and a test gives a script of its own.
 */
import { createInterface, type Interface } from "node:readline";
import type { Lang, Text } from "./types.js";

/** How a wait for the person ended. */
export type PromptAnswer = "confirmed" | "timeout" | "closed" | "aborted";

export interface Prompter {
  /** Someone can answer: a terminal on both ends. Without one, guided steps are skipped. */
  readonly canAsk: boolean;
  /** Tells the person something, in the run's language. */
  say(message: Text): void;
  /** Tells the person `message` and waits for Enter, at most `timeoutMs`. */
  waitForEnter(message: Text, options: { timeoutMs: number; signal?: AbortSignal }): Promise<PromptAnswer>;
  /** Lets go of the terminal (the run ends). */
  close(): void;
}

interface TerminalIo {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * The person at this process's terminal: prompts on stderr (stdout may be a report), answers on
 * stdin. stdin is only read once a question is asked, so runs that ask nothing never hold it.
 */
export function terminalPrompter(lang: Lang, io: TerminalIo = { input: process.stdin, output: process.stderr }): Prompter {
  const canAsk = Boolean(io.input.isTTY && io.output.isTTY);
  let lines: Interface | undefined;
  let ended = false;
  let waiter: ((answer: PromptAnswer) => void) | undefined;
  const open = (): Interface => {
    if (!lines) {
      lines = createInterface({ input: io.input, terminal: false });
      lines.on("line", () => waiter?.("confirmed"));
      lines.on("close", () => {
        ended = true;
        waiter?.("closed");
      });
    }
    return lines;
  };
  const write = (message: Text) => io.output.write(`\n» ${message[lang]}\n`);
  return {
    canAsk,
    say: write,
    waitForEnter(message, options) {
      if (!canAsk || ended) return Promise.resolve("closed");
      open();
      write(message);
      return new Promise<PromptAnswer>((resolve) => {
        const finish = (answer: PromptAnswer) => {
          clearTimeout(timer);
          options.signal?.removeEventListener("abort", onAbort);
          waiter = undefined;
          resolve(answer);
        };
        const onAbort = () => finish("aborted");
        // An Enter typed before this question does not answer it: only lines from now on count.
        waiter = finish;
        const timer = setTimeout(() => finish("timeout"), options.timeoutMs);
        if (options.signal?.aborted) finish("aborted");
        else options.signal?.addEventListener("abort", onAbort, { once: true });
      });
    },
    close() {
      waiter?.("closed");
      lines?.close();
      // readline resumed stdin; a paused stdin lets the process end.
      io.input.pause?.();
    },
  };
}

/** Nobody to ask (the default of library use and of runs without --interactive). */
export const NO_PROMPTER: Prompter = {
  canAsk: false,
  say() {},
  waitForEnter: () => Promise.resolve("closed"),
  close() {},
};
