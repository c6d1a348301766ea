/**
 * Writes schema/lab-spec.schema.json from the zod schema (`npm run schema`).
 * test/config/json-schema.test.ts fails when the committed file is out of date.
 */
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { labSpecJsonSchemaText } from "../src/config/json-schema.js";

const target = fileURLToPath(new URL("../schema/lab-spec.schema.json", import.meta.url));
await writeFile(target, labSpecJsonSchemaText());
console.log(`wrote ${target}`);
