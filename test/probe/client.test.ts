import { describe, expect, it } from "vitest";
import { cookieUrl, createProbeClient } from "../../src/probe/index.js";

const vip = { address: "127.0.0.1", port: 8080, path: "/index.html" };

describe("ProbeClient", () => {
  it("scopes cookies to the address, or to the Host when the lab names one", () => {
    expect(cookieUrl(vip)).toBe("http://127.0.0.1:8080/index.html");
    expect(cookieUrl({ ...vip, host: "lab.example" })).toBe("http://lab.example:8080/index.html");
    expect(cookieUrl({ ...vip, host: "lab.example:81" })).toBe("http://lab.example:81/index.html");
    expect(cookieUrl({ address: "::1", port: 80, path: "/" })).toBe("http://[::1]/");
  });

  it("reads, forges and clears cookies like a browser", async () => {
    const browser = createProbeClient("student", { localAddress: "127.0.0.2" });
    expect(browser.localAddress).toBe("127.0.0.2");
    expect(await browser.forgeCookie(vip, "ROUTEID", ".wsrv2")).toBe(true);
    expect(await browser.getCookie(vip, "ROUTEID")).toBe(".wsrv2");
    expect(await browser.cookieHeaderFor(vip)).toBe("ROUTEID=.wsrv2");
    // A cookie for another site is refused, as a browser refuses it.
    expect(await browser.setCookie(vip, "x=1; Domain=example.org")).toBe(false);
    await browser.storeSetCookies(vip, ["ROUTEID=.wsrv1; path=/", "bad=1; Domain=example.org"]);
    expect(browser.setCookiesSeen.map((s) => s.stored)).toEqual([true, false]);
    expect(await browser.getCookie(vip, "ROUTEID")).toBe(".wsrv1");
    await browser.clearCookies();
    expect(await browser.cookieHeaderFor(vip)).toBe("");
  });
});
