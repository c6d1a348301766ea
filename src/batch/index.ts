export { loadRoster, formatRosterProblems, type RosterEntry, type RosterProblem, type RosterLoad } from "./roster.js";
export { gradeBatch, parseShard, shardOf, DEFAULT_BUDGET_MS, type BatchOptions, type Shard } from "./run.js";
export { defaultConcurrency, concurrencyFor, machineRoom, CONCURRENCY_CEILING, LAB_GRADING_BYTES, type MachineRoom } from "./concurrency.js";
export { readEntries, type LabEntry, type LabStatus } from "./entry.js";
export { summarizeClass, correlation, type ClassSummary, type ClassItem, type ClassLab } from "./summary.js";
export { writeClassOutputs, mergeShards, collectLabs, CLASS_DIR } from "./class.js";
export { loadRubric, regradeResult, type Rubric } from "./regrade.js";
