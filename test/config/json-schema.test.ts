import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { labSpecJsonSchema, labSpecJsonSchemaText } from "../../src/config/json-schema.js";
import { FIXTURES } from "./workspace.js";

const committed = new URL("../../schema/lab-spec.schema.json", import.meta.url);

type Node = { properties?: Record<string, Node>; items?: Node; required?: string[]; default?: unknown; additionalProperties?: unknown; description?: string; minItems?: number };

describe("schema/lab-spec.schema.json", () => {
  it("is in sync with the zod schema (run `npm run schema` after changing it)", async () => {
    expect(await readFile(committed, "utf8")).toBe(labSpecJsonSchemaText());
  });

  it("describes the input side: defaults optional, unknown fields refused, fields described", () => {
    const schema = labSpecJsonSchema() as Node;
    expect(schema.required).toEqual(["lab", "vip", "balancer", "backends"]);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties?.vip?.required).toEqual(["address"]);
    expect(schema.properties?.vip?.properties?.port?.default).toBe(80);
    expect(schema.properties?.backends?.minItems).toBe(2);
    expect(schema.properties?.backends?.items?.required).toEqual(["name", "address"]);
    expect(schema.properties?.timeouts?.properties?.connect?.description).toMatch(/milliseconds/i);
  });

  it("knows every field the complete fixture uses", async () => {
    const schema = labSpecJsonSchema() as Node;
    const good = parse(await readFile(`${FIXTURES}good.yaml`, "utf8")) as Record<string, unknown>;
    for (const key of Object.keys(good)) expect(schema.properties, key).toHaveProperty(key);
  });
});
