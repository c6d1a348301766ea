import net from "node:net";
import { CookieJar } from "tough-cookie";
import { capText } from "./errors.js";
import type { ProbeTarget } from "./types.js";

/** Longest Set-Cookie value kept as evidence; a hostile server may send megabytes. */
export const MAX_SET_COOKIE_CHARS = 512;
/** Set-Cookie headers kept per response. */
export const MAX_SET_COOKIES_PER_RESPONSE = 16;
const MAX_SEEN = 1000;

export interface SetCookieSeen {
  /** The URL the response came from, as the cookie jar saw it. */
  url: string;
  value: string;
  /** Whether the jar accepted it (a malformed or foreign-domain cookie is refused, as a browser would). */
  stored: boolean;
}

export interface ProbeClientOptions {
  /** Source address this browser's connections bind to (one grader acting as several clients). */
  localAddress?: string;
  jar?: CookieJar;
}

/** The URL a browser would have in its address bar for this target: cookies are scoped to it. */
export function cookieUrl(target: ProbeTarget): string {
  const address = net.isIP(target.address) === 6 ? `[${target.address}]` : target.address;
  const path = target.path.startsWith("/") ? target.path : `/${target.path}`;
  if (target.host !== undefined && target.host !== "") {
    try {
      const url = new URL(`http://${target.host}`);
      if (url.port === "") url.port = String(target.port);
      return new URL(path, url).href;
    } catch {
      // An unparsable Host header still reaches the server; cookies then follow the address.
    }
  }
  return new URL(path, `http://${address}:${target.port}`).href;
}

/**
 * A simulated browser: a name for reports, a cookie jar that stores what servers set and sends it
 * back, and optionally the source address it connects from.
 */
export class ProbeClient {
  readonly name: string;
  readonly jar: CookieJar;
  readonly localAddress: string | undefined;
  readonly #seen: SetCookieSeen[] = [];

  constructor(name: string, options: ProbeClientOptions = {}) {
    this.name = name;
    this.jar = options.jar ?? new CookieJar();
    this.localAddress = options.localAddress;
  }

  /** The Cookie header this browser sends to the target ("" when it has none). */
  async cookieHeaderFor(target: ProbeTarget): Promise<string> {
    return this.jar.getCookieString(cookieUrl(target));
  }

  /** Stores a response's Set-Cookie headers, as a browser would. */
  async storeSetCookies(target: ProbeTarget, values: readonly string[]): Promise<void> {
    const url = cookieUrl(target);
    for (const value of values.slice(0, MAX_SET_COOKIES_PER_RESPONSE)) {
      const stored = await this.jar.setCookie(value, url, { ignoreError: true });
      if (this.#seen.length >= MAX_SEEN) this.#seen.shift();
      this.#seen.push({ url, value: capText(value, MAX_SET_COOKIE_CHARS), stored: stored !== undefined });
    }
  }

  /** Value of one cookie the browser would send to the target. */
  async getCookie(target: ProbeTarget, name: string): Promise<string | undefined> {
    const cookies = await this.jar.getCookies(cookieUrl(target));
    return cookies.find((c) => c.key === name)?.value;
  }

  /** Sets a cookie from Set-Cookie syntax, e.g. "ROUTEID=.wsrv2; path=/". Returns whether it was accepted. */
  async setCookie(target: ProbeTarget, setCookie: string): Promise<boolean> {
    const stored = await this.jar.setCookie(setCookie, cookieUrl(target), { ignoreError: true });
    return stored !== undefined;
  }

  /** Plants a cookie the server never sent, e.g. forgeCookie(vip, "ROUTEID", ".wsrv2") to move to a route. */
  async forgeCookie(target: ProbeTarget, name: string, value: string): Promise<boolean> {
    return this.setCookie(target, `${name}=${value}; path=/`);
  }

  async clearCookies(): Promise<void> {
    await this.jar.removeAllCookies();
  }

  /** Every Set-Cookie this browser received, oldest first (the last 1000). */
  get setCookiesSeen(): readonly SetCookieSeen[] {
    return this.#seen;
  }
}

export function createProbeClient(name: string, options: ProbeClientOptions = {}): ProbeClient {
  return new ProbeClient(name, options);
}
