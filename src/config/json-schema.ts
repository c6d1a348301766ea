/**
 * The JSON Schema editors use to complete and check spec files (YAML via yaml-language-server,
 * JSON via "$schema"). Generated from the zod schema's input side, so fields with defaults
 * show as optional; descriptions come from the same field table the problem messages use.
 */
import { z } from "zod";
import { FIELDS, type FieldInfo } from "./fields.js";
import { labSpecSchema } from "./schema.js";

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(info: FieldInfo): string {
  const capital = (text: string): string => `${text[0]?.toUpperCase() ?? ""}${text.slice(1)}`;
  return `${capital(info.what.en)}. ${capital(info.rule.en)}.`;
}

/** Adds descriptions in place, following properties, items, records and unions. */
function annotate(node: unknown, path: string, describeSelf = true): void {
  if (!isObject(node)) return;
  const info = FIELDS[path.replace(/^(?:balancer|backends\[\])\.ssh\./, "ssh.")];
  if (describeSelf && info !== undefined && typeof node.description !== "string") node.description = describe(info);
  for (const key of ["anyOf", "oneOf", "allOf"]) {
    const options = node[key];
    if (Array.isArray(options)) for (const option of options) annotate(option, path, false);
  }
  if (isObject(node.properties)) {
    for (const [key, child] of Object.entries(node.properties)) annotate(child, path === "" ? key : `${path}.${key}`);
  }
  if (node.items !== undefined) annotate(node.items, `${path}[]`);
  if (isObject(node.additionalProperties)) annotate(node.additionalProperties, `${path}.*`);
}

export function labSpecJsonSchema(): JsonObject {
  const generated = z.toJSONSchema(labSpecSchema, { io: "input", unrepresentable: "any", target: "draft-2020-12" }) as JsonObject;
  annotate(generated, "");
  const { $schema, ...rest } = generated;
  return {
    $schema,
    title: "hagrade lab spec",
    description: "Where a 'web service in high availability' lab is and what it must do. Reference: docs/spec.md.",
    ...rest,
  };
}

/** The committed file's exact text. */
export function labSpecJsonSchemaText(): string {
  return `${JSON.stringify(labSpecJsonSchema(), null, 2)}\n`;
}
