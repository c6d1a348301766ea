export * from "./text.js";
export * from "./evidence.js";
export * from "./evidence-upgrade.js";
export * from "./result.js";
export * from "./class.js";
export { SPEC_REFERENCE, VERSION } from "./version.js";
