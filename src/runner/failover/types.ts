import type { ProbeClient } from "../../probe/index.js";
import type { RestoreReport } from "../../ssh/index.js";
import type { Text } from "../types.js";
import type { Mark } from "./watch.js";

export interface FailoverMeasure {
  victim: string;
  survivors: string[];
  /** Wall-clock time (epoch ms) the times below count from. */
  clockStartedAt: number;
  stoppedAt?: number;
  startedAt?: number;
  /** When the outage ended on purpose (the restore began). */
  outageEnd?: number;
  /** When the traffic was seen settled on the survivors (the balancer had noticed by then). */
  settledAt?: number;
  /** ms from the stop until the victim's last answer (0 if none came after the stop). */
  detectMs?: number;
  failedRequests: number;
  /** The victim kept answering after it was stopped: its page comes from elsewhere. */
  victimStillAnswering: boolean;
  /** Whether the victim's return to the balancer was waited for (false: only its restore was verified). */
  rejoinMeasured: boolean;
  rejoinMs?: number;
  rejoined: boolean;
  /** The victim never answered through the VIP before the test: nothing was changed. */
  victimNotInService?: boolean;
  /** Absent when nothing was changed. */
  restore?: RestoreReport;
  timeline: Mark[];
  events: { t: number; what: string }[];
  /**
   * The experiment did not run as planned: the stop command failed ("change-failed": the victim
   * was never stopped), the watch outlived its bound, or a read during the outage failed.
   */
  failure?: { kind: string; text: Text };
  /**
   * A person stopped and started the victim (no SSH to it, --interactive): what they confirmed,
   * and whether the victim is known to run again (confirmed, or seen through the VIP).
   */
  guided?: { stopConfirmed: boolean; startConfirmed: boolean; back: boolean; startHint: Text };
}

export interface FailoverOptions {
  clients: { name: string; client?: ProbeClient }[];
  waitFor?: (marks: Mark[], stoppedAt: number) => boolean;
  /** Whether the outage went well enough to be worth waiting for the victim's return. */
  outageOk?: (outage: Mark[]) => boolean;
  /** Called once traffic has settled without the victim, before it is started again (e.g. read the IPVS table). */
  duringOutage?: () => Promise<void>;
  /**
   * How to see the victim back; default: its page through the VIP. With LVS persistence every
   * client stays where it was moved, so the IPVS table tells instead.
   */
  rejoined?: () => Promise<boolean>;
  /**
   * Wait for the balancer to send the restarted victim traffic again (default true). Without it
   * the measure ends once the restore is verified on the victim itself: Apache's `retry` (60 s)
   * is the balancer's timer, not the student's work.
   */
  measureRejoin?: boolean;
}
