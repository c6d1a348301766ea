/**
 * Everything hagrade reads from a path or a peer is read with a bound: a device or a pipe named
 * as a secret file or a key, and a page that never ends.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readPrivateKey, resolveSecret, SecretRegistry } from "../../src/config/secrets.js";
import { createIdentifier, fetchOnce } from "../../src/probe/index.js";

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe("secret and key files", () => {
  it("a secret file that never ends (/dev/zero) is refused, naming the field, and nothing is registered", async () => {
    const registry = new SecretRegistry();
    const result = await resolveSecret({ file: "/dev/zero" }, "ssh.password (balancer)", { registry });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.field).toBe("ssh.password (balancer)");
      expect(result.error.message.en).toMatch(/\/dev\/zero \(ssh\.password \(balancer\)\) holds more than 65536 bytes/);
      expect(result.error.fix.en).toMatch(/Correct the path of ssh\.password/);
    }
    expect(registry.size).toBe(0);
  });

  it("a private key that never ends (/dev/urandom) is refused, naming the field", async () => {
    const result = await readPrivateKey("/dev/urandom", "ssh.privateKey (balancer)");
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message.en).toContain("ssh.privateKey (balancer)");
  });

  it("a secret from a pipe that ends (a shell's <(...)) is still read", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hagrade-fifo-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const fifo = join(dir, "secret");
    execFileSync("mkfifo", [fifo]);
    // The writer opens the pipe after the reader: a child process, like the shell's <(...).
    const writer = execFileAsyncWrite(fifo, "from-a-pipe\n");
    const result = await resolveSecret({ file: fifo }, "ssh.password");
    await writer;
    expect(result).toEqual({ ok: true, value: "from-a-pipe" });
  });
});

function execFileAsyncWrite(path: string, content: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("sh", ["-c", `printf '%s' "$1" > "$2"`, "sh", content, path], { timeout: 10_000 }, (error) => (error ? reject(error) : resolve()));
  });
}

describe("a page that never ends", () => {
  it("fetchOnce reads a bounded part of an endless body and says body-too-large; memory holds only the kept part", async () => {
    let sent = 0;
    const server = net.createServer((socket) => {
      socket.on("error", () => undefined);
      socket.once("data", () => {
        socket.write("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n");
        const body = `<h1>Bienvenido a webserver1</h1>${"x".repeat(16_000)}`;
        const chunk = Buffer.from(`${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n`);
        const more = (): void => {
          while (!socket.destroyed && socket.writable) {
            sent += chunk.length;
            if (!socket.write(chunk)) {
              socket.once("drain", more);
              return;
            }
          }
        };
        more();
      });
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    cleanups.push(() => new Promise<void>((done) => server.close(() => done())));
    const port = (server.address() as net.AddressInfo).port;
    const result = await fetchOnce(
      { address: "127.0.0.1", port, path: "/" },
      { retries: 0, maxReadBytes: 2 * 1024 * 1024, identify: createIdentifier({ backends: [{ name: "webserver1", identity: "1" }] }) },
    );
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.class).toBe("body-too-large");
      expect(result.error.message).toMatch(/did not end within 2097152 bytes/);
      expect(result.status).toBe(200);
    }
    // It hung up: the peer could not push much past the read bound (socket buffers aside).
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });
});
