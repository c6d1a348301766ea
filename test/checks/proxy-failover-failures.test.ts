/**
 * proxy.failover's count of failed requests: what fails while the stop command runs is the web
 * server's own shutdown (one per request loop at most is not held against the lab); what fails
 * after it has returned is the balancer's, and counts in full.
 */
import { describe, expect, it } from "vitest";
import { failedPhrase, heldFailures } from "../../checks/proxy/failover.js";

const ok = (t: number) => ({ t, label: "webserver2" });
const err = (t: number) => ({ t, label: "error:reset" });
const events = [
  { t: 100, what: "stop" },
  { t: 400, what: "stopped" },
  { t: 900, what: "restoring" },
];
const measure = (timeline: { t: number; label: string }[]) => ({ timeline, events, stoppedAt: 100, outageEnd: 900 });

describe("failed requests held against the lab", () => {
  it("excuses up to one failure per request loop while the stop runs", () => {
    expect(heldFailures(measure([err(150), err(350), ok(500)]))).toEqual({ duringStop: 2, afterStop: 0, held: 0 });
  });

  it("holds the failures beyond one per loop during the stop", () => {
    expect(heldFailures(measure([err(150), err(200), err(350), ok(500)]))).toEqual({ duringStop: 3, afterStop: 0, held: 1 });
  });

  it("holds every failure after the stop has returned", () => {
    expect(heldFailures(measure([ok(150), err(450), err(600), ok(700)]))).toEqual({ duringStop: 0, afterStop: 2, held: 2 });
  });

  it("ignores failures before the stop and after the outage", () => {
    expect(heldFailures(measure([err(50), ok(500), err(950)]))).toEqual({ duringStop: 0, afterStop: 0, held: 0 });
  });

  it("without a 'stopped' event (a person stopped it) every failure counts", () => {
    const m = { timeline: [err(150), err(350)], events: [{ t: 100, what: "stop" }], stoppedAt: 100, outageEnd: 900 };
    expect(heldFailures(m)).toEqual({ duringStop: 0, afterStop: 2, held: 2 });
  });
});

describe("the pass message's count of failed requests", () => {
  it("says how many failed while the web server's Apache was stopping", () => {
    expect(failedPhrase(2, 1, "webserver1").en).toBe("2 failed requests, 1 while webserver1's Apache was stopping");
    expect(failedPhrase(2, 1, "webserver1").es).toBe("2 peticiones fallidas, 1 mientras Apache de webserver1 se paraba");
  });

  it("says nothing more when none failed during the stop", () => {
    expect(failedPhrase(1, 0, "webserver1").en).toBe("1 failed request");
    expect(failedPhrase(0, 0, "webserver2").es).toBe("0 peticiones fallidas");
  });
});
