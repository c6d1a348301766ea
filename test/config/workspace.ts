/**
 * A throw-away folder holding copies of the spec fixtures plus a real private key, so relative
 * paths in specs resolve against a folder the test owns and file checks see real files.
 */
import { generateKeyPairSync } from "node:crypto";
import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));

export interface Workspace {
  dir: string;
  /** Absolute path of the private key written at keys/id_test. */
  keyPath: string;
  keyText: string;
  file(name: string): string;
  remove(): Promise<void>;
}

export function privateKeyPem(): string {
  return generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString();
}

export async function makeWorkspace(): Promise<Workspace> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hagrade-config-"));
  await cp(FIXTURES, dir, { recursive: true });
  const keyText = privateKeyPem();
  for (const folder of [path.join(dir, "keys"), path.join(dir, "bad", "keys")]) {
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, "id_test"), keyText, { mode: 0o600 });
    await chmod(path.join(folder, "id_test"), 0o600);
    await writeFile(path.join(folder, "id_test.pub"), "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHagradeTestKeyNotRealAtAllxxxxxxxxxxxxxxxx test@hagrade\n");
  }
  return {
    dir,
    keyPath: path.join(dir, "keys", "id_test"),
    keyText,
    file: (name) => path.join(dir, name),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
