/**
 * Judgements across a whole Apache configuration: a balancer without members, one no ProxyPass
 * uses, a stickysession naming a cookie no Header sets, a member without route=.
 */

import type { ApacheConfig } from "./apache-model.js";

/** Adds to `config.problems` what only the whole configuration shows. */
export function crossCheckApacheConfig(config: ApacheConfig): void {
  for (const balancer of config.balancers) {
    const where = balancer.definedAt ?? balancer.referencedAt[0];
    if (balancer.members.length === 0) {
      const first = balancer.referencedAt[0];
      const known = config.balancers.filter((other) => other.members.length > 0).map((other) => other.url);
      config.problems.push({
        code: "balancer-without-members",
        severity: "error",
        message:
          `${balancer.url} has no BalancerMember, so every request through it fails with 503.` +
          (known.length > 0 ? ` The members are defined under ${known.join(", ")}: use the same name in ProxyPass.` : ""),
        ...(first ?? where ?? {}),
      });
    } else if (balancer.referencedAt.length === 0) {
      config.problems.push({
        code: "balancer-not-used",
        severity: "warning",
        message: `${balancer.url} has members but no ProxyPass sends requests to it.`,
        ...(where ?? {}),
      });
    }
    if (balancer.stickySessionNames.length > 0) {
      const cookieNames = new Set(config.routeCookies.map((cookie) => cookie.cookieName));
      const routeCookies = config.routeCookies.filter((cookie) => cookie.usesWorkerRoute);
      if (routeCookies.length > 0 && !balancer.stickySessionNames.some((name) => cookieNames.has(name))) {
        const source = balancer.paramSources.stickysession;
        config.problems.push({
          code: "sticky-cookie-mismatch",
          severity: "error",
          message: `stickysession=${balancer.stickysession} names a cookie the Header line never sets (it sets ${[...cookieNames].join(", ")}); cookie names are case-sensitive, so no request sticks.`,
          ...(source ?? where ?? {}),
        });
      }
      for (const member of balancer.members) {
        if (member.route === undefined) {
          config.problems.push({
            code: "member-without-route",
            severity: "warning",
            message: `BalancerMember ${member.url} on line ${member.line} has no route=, so the sticky cookie can never point at it.`,
            file: member.file,
            line: member.line,
            text: member.text,
          });
        }
      }
    }
  }
}
