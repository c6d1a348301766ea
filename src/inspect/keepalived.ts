/**
 * A reader of keepalived.conf (the lab's Part 1) and of genhash output: the syntax
 * (keepalived-syntax.ts), the model the lab grades (keepalived-model.ts, read by
 * keepalived-config.ts), HTTP_GET digests and genhash (keepalived-digest.ts), and
 * `keepalived -t` (keepalived-configtest.ts).
 */

export {
  keepalivedIncludesFrom,
  parseKeepalivedConfig,
  type KeepalivedAst,
  type KeepalivedIncludeReader,
  type KeepalivedIncludeRequest,
  type KeepalivedNode,
  type KeepalivedParseOptions,
} from "./keepalived-syntax.js";
export type {
  KeepalivedCheck,
  KeepalivedCheckType,
  KeepalivedGlobalDefs,
  KeepalivedModel,
  KeepalivedRealServer,
  KeepalivedUrl,
  KeepalivedVirtualServer,
  KeepalivedVirtualServerGroup,
  KeepalivedVrrpInstance,
  StatusCodeRange,
} from "./keepalived-model.js";
export { keepalivedModel, type KeepalivedModelOptions } from "./keepalived-config.js";
export {
  digestsEqual,
  genhashDigest,
  keepalivedResponseDigest,
  parseGenhashOutput,
  type GenhashResult,
  type ResponseDigest,
} from "./keepalived-digest.js";
export { parseKeepalivedConfigtest, type KeepalivedConfigMessage, type KeepalivedConfigtest } from "./keepalived-configtest.js";
