/**
 * Readers of what Apache tells about itself over SSH (`apache2ctl -M`, `-S`, `-t`: apache-ctl.ts)
 * and of the reverse-proxy site file itself, since `-S` does not list BalancerMembers: its syntax
 * (apache-syntax.ts), the model the lab grades (apache-model.ts, read by apache-config.ts) and the
 * judgements across the whole configuration (apache-problems.ts).
 */

export {
  apacheModuleShortName,
  hasApacheModule,
  parseApacheConfigtest,
  parseApacheModules,
  parseApacheVhosts,
  type ApacheConfigtest,
  type ApacheModuleEntry,
  type ApacheModules,
  type ApacheRunConfig,
  type ApacheSyntaxError,
  type ApacheVhostEntry,
} from "./apache-ctl.js";
export type {
  ApacheBalancer,
  ApacheBalancerMember,
  ApacheConfig,
  ApacheConfigOptions,
  ApacheDirective,
  ApacheHeaderDirective,
  ApacheIncludeReader,
  ApacheIncludeRequest,
  ApacheProxyPass,
  ApacheRouteCookie,
  ApacheVirtualHostSection,
} from "./apache-model.js";
export { apacheIncludesFrom } from "./apache-syntax.js";
export { balancerNameOf, parseApacheConfig } from "./apache-config.js";
