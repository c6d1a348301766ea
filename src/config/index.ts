/** The lab spec: schema, loading, secrets and SSH targets. */
export {
  labSpecSchema, secretSchema, sshTargetSchema, sshDefaultsSchema,
  LVS_STEPS, PROXY_STEPS, STEPS, SPEC_LIMITS, DEFAULT_IDENTITY_PATTERN, DEFAULT_KNOWN_HOSTS, DEFAULT_PAGE_PATH,
  captureGroupCount, defaultIdentity, defaultRoute,
  type LabSpec, type LabSpecInput, type Backend, type SshTarget, type SshDefaults, type Secret, type Step,
} from "./schema.js";
export { resolveSshTargets, WINDOWS_AGENT_PIPE, type ResolvedSshTarget, type ResolveTargetsEnvironment } from "./targets.js";
export {
  loadSpec, parseSpecText, formatProblems, MAX_SPEC_BYTES, MAX_ALIAS_COUNT,
  type SpecLoadResult, type SpecProblem, type SpecOverrides, type ParseSpecOptions, type LoadSpecOptions, type FormatOptions,
} from "./load.js";
export {
  SecretRegistry, resolveSecret, readPrivateKey, loadSshCredentials, REDACTED,
  type SecretError, type SecretErrorKind, type SecretResult, type SshCredentials,
} from "./secrets.js";
export { resolveSpecPath, resolveSpecPaths, type PathContext } from "./paths.js";
export { starterSpec } from "./init.js";
export { labSpecJsonSchema, labSpecJsonSchemaText } from "./json-schema.js";
