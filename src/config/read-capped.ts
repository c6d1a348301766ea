import { open } from "node:fs/promises";

/**
 * At most `limit` bytes of a file. Spec, key and secret paths come from people: one may name a
 * device or a pipe (/dev/zero, /dev/stdin, a shell's <(...)) that has no size and never ends.
 */
export async function readCapped(file: string, limit: number): Promise<Buffer> {
  const handle = await open(file, "r");
  try {
    const buffer = Buffer.alloc(limit);
    let filled = 0;
    while (filled < limit) {
      const { bytesRead } = await handle.read(buffer, filled, limit - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buffer.subarray(0, filled);
  } finally {
    await handle.close();
  }
}
