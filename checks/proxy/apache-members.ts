/**
 * The loadfactors Apache's site files on the balancer give the spec's backends, read with one
 * read-only command (no sudo): what the traffic of proxy.loadfactor is compared with. Every
 * byte read back is checked (path, base64, size, file count) before it is parsed.
 */
import type { CheckContext } from "../../src/runner/context.js";
import { parseApacheConfig } from "../../src/inspect/index.js";
import { isSshError } from "../../src/ssh/index.js";
import { weightsText } from "../../src/stats/index.js";

/** Where Debian and the RHEL family keep the sites Apache loads. */
const SITE_GLOBS = ["/etc/apache2/sites-enabled/*", "/etc/httpd/conf.d/*.conf"] as const;
/** Largest site file read back: a lab's are a few KiB. */
const MAX_FILE_BYTES = 256 * 1024;
const MAX_FILES = 64;

export const APACHE_SITES_READ = `for f in ${SITE_GLOBS.join(" ")}; do [ -f "$f" ] && printf '%s\\t%s\\n' "$f" "$(head -c ${MAX_FILE_BYTES} "$f" | base64 | tr -d '\\n')"; done; true`;

export interface ConfiguredLoadfactors {
  /** "3:1" in the spec's backend order. */
  ratio: string;
  /** Where the first matching member is written, "/etc/apache2/sites-enabled/x.conf:12". */
  where: string;
}

/** Path TAB base64 lines → files; anything malformed is left out. */
export function parseSiteFiles(stdout: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  for (const line of (typeof stdout === "string" ? stdout : "").split("\n").slice(0, MAX_FILES)) {
    const m = /^(\/etc\/[A-Za-z0-9._/-]{1,200})\t([A-Za-z0-9+/=]{0,400000})$/.exec(line.trimEnd());
    if (!m?.[1] || m[2] === undefined) continue;
    const bytes = Buffer.from(m[2], "base64");
    if (bytes.length > MAX_FILE_BYTES) continue;
    out.push({ path: m[1], text: bytes.toString("utf8") });
  }
  return out;
}

/** The ratio of the balancer whose members are exactly the spec's backends (address and port). */
export function loadfactorsOf(files: readonly { path: string; text: string }[], backends: readonly { name: string; address: string; port: number }[]): ConfiguredLoadfactors | undefined {
  for (const file of files) {
    const config = parseApacheConfig(file.text, { file: file.path });
    for (const balancer of config.balancers) {
      const members = backends.map((b) => balancer.members.find((m) => m.host === b.address && (m.port ?? 80) === b.port));
      if (members.some((m) => m === undefined)) continue;
      const first = members[0];
      return { ratio: weightsText(members.map((m) => m?.loadfactor ?? 1)), where: `${first?.file ?? file.path}:${first?.line ?? 0}` };
    }
  }
  return undefined;
}

/** Undefined without SSH to the balancer, when SSH fails, or when no site file balances the spec's backends. */
export async function configuredLoadfactors(ctx: CheckContext): Promise<ConfiguredLoadfactors | undefined> {
  if (!ctx.ssh?.has("balancer")) return undefined;
  try {
    const r = await ctx.ssh.exec("balancer", APACHE_SITES_READ);
    return loadfactorsOf(parseSiteFiles(r.stdout), ctx.spec.backends);
  } catch (error) {
    if (isSshError(error)) return undefined;
    throw error;
  }
}
