import net from "node:net";
import { scopeViolation } from "./scope.js";

export interface Arrival {
  remoteAddress: string;
  remotePort: number;
  /** ms since the listener opened. */
  t: number;
  firstBytes: string;
}

export interface Listener {
  address: string;
  port: number;
  arrivals: Arrival[];
  /** Resolves with the first arrival, or undefined after `timeoutMs`. */
  waitForArrival(timeoutMs: number): Promise<Arrival | undefined>;
  close(): Promise<void>;
}

/**
 * A TCP listener on one of the grader's own addresses, to see where a lab machine's connection
 * comes from: through a NAT it arrives from the balancer's address, without one from the web
 * server's private address. Reads at most a few bytes and answers nothing.
 */
export async function listenForArrivals(address: string, port = 0): Promise<Listener> {
  // Listening sends nothing: the wildcard (every address of this machine) is no traffic to fence.
  const denied = address === "0.0.0.0" ? null : scopeViolation(address);
  if (denied !== null) throw new Error(denied);
  const started = performance.now();
  const arrivals: Arrival[] = [];
  const waiters = new Set<(a: Arrival) => void>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setTimeout(5000, () => socket.destroy());
    socket.once("close", () => sockets.delete(socket));
    let first = "";
    const record = () => {
      const arrival: Arrival = {
        remoteAddress: (socket.remoteAddress ?? "").replace(/^::ffff:/, ""),
        remotePort: socket.remotePort ?? 0,
        t: Math.round(performance.now() - started),
        firstBytes: first.slice(0, 64),
      };
      arrivals.push(arrival);
      for (const w of waiters) w(arrival);
      waiters.clear();
    };
    let recorded = false;
    socket.on("data", (chunk: Buffer) => {
      if (first.length < 64) first += chunk.toString("latin1");
      if (!recorded) {
        recorded = true;
        record();
      }
      socket.end();
    });
    socket.once("end", () => {
      if (!recorded) {
        recorded = true;
        record();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => resolve());
  });
  const bound = server.address() as net.AddressInfo;
  return {
    address,
    port: bound.port,
    arrivals,
    waitForArrival(timeoutMs) {
      if (arrivals[0]) return Promise.resolve(arrivals[0]);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiters.delete(done);
          resolve(undefined);
        }, timeoutMs);
        const done = (a: Arrival) => {
          clearTimeout(timer);
          resolve(a);
        };
        waiters.add(done);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
