/**
 * Parsers of what SSH brings back from the lab's machines. They are pure and never throw:
 * odd input comes back as `problems` and `unparsed` lines, with file and line as evidence.
 */

export * from "./common.js";
export * from "./apache.js";
export * from "./net.js";
export * from "./keepalived.js";
export * from "./ipvsadm.js";
