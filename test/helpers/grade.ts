/**
 * Grading a lab from a test: the options a test run starts from (nothing that changes the lab,
 * waits out long timeouts, asks a person or trusts a new host key, unless the test says so) and a
 * spec that must load, since a lab fixture whose spec does not is the fixture's bug, not a verdict.
 */
import { formatProblems, loadSpec, type LabSpec, type SpecOverrides } from "../../src/config/index.js";
import { RUBRIC } from "../../checks/index.js";
import { gradeLab, type GradedRun, type GradeOptions } from "../../src/runner/grade.js";

/** A test run's options: the defaults, with the test's own choices laid over them. */
export function gradeOptions(overrides: Partial<GradeOptions> & { journalDir: string }): GradeOptions {
  return {
    rubric: RUBRIC,
    lang: "en",
    disruptive: false,
    long: false,
    interactive: false,
    acceptNewHostKeys: false,
    ...overrides,
  };
}

/** The lab's spec, or an Error naming the spec file and each problem with its fix. */
export async function loadLabSpec(specPath: string, specOverrides?: SpecOverrides): Promise<LabSpec> {
  const loaded = await loadSpec(specPath, specOverrides);
  if (!loaded.ok) throw new Error(formatProblems(loaded.problems, "en", { sourceName: specPath }));
  return loaded.spec;
}

/** Loads the lab's spec and grades it with `gradeOptions(overrides)`. */
export async function gradeSpecFile(specPath: string, overrides: Partial<GradeOptions> & { journalDir: string }): Promise<GradedRun> {
  return gradeLab(await loadLabSpec(specPath), gradeOptions(overrides));
}
