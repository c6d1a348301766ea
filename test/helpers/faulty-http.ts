/**
 * HTTP peers that fail in each way a lab's VIP can, on loopback: nothing listening (refused),
 * a connection reset, a server that accepts and never answers, a 5xx, bytes that are not HTTP,
 * and a 200 whose body ends before its Content-Length (carrying a web server's name, so a probe
 * that trusted it would count it).
 */
import http from "node:http";
import type net from "node:net";
import { closedPort, startRawServer, startWebServer } from "../probe/servers.js";

export const HTTP_FAULTS = ["refused", "reset", "silent", "5xx", "garbage", "truncated body"] as const;
export type HttpFault = (typeof HTTP_FAULTS)[number];

export interface FaultyHttp {
  fault: HttpFault;
  address: string;
  port: number;
  close(): Promise<void>;
}

const GARBAGE = Buffer.from("\x00\x17\xffSSH-2.0-OpenSSH_9.2\r\n\x1b[2J<<not http>>\n", "latin1");

export async function startFaultyHttp(fault: HttpFault, address = "127.0.0.1"): Promise<FaultyHttp> {
  const none = () => Promise.resolve();
  switch (fault) {
    case "refused":
      return { fault, address, port: await closedPort(address), close: none };
    case "reset": {
      const s = await startRawServer((socket: net.Socket) => {
        socket.once("data", () => socket.resetAndDestroy());
        socket.on("error", () => undefined);
      }, address);
      return { fault, address, port: s.port, close: s.close };
    }
    case "silent": {
      const s = await startRawServer((socket: net.Socket) => {
        socket.on("error", () => undefined);
      }, address);
      return { fault, address, port: s.port, close: s.close };
    }
    case "5xx": {
      const s = await startWebServer("1", {
        address,
        handler: (_req: http.IncomingMessage, res: http.ServerResponse) => {
          res.writeHead(503, { "content-type": "text/html" });
          res.end("<html><body><h1>Service Unavailable</h1></body></html>\n");
        },
      });
      return { fault, address, port: s.port, close: s.close };
    }
    case "garbage": {
      const s = await startRawServer((socket: net.Socket) => {
        socket.on("error", () => undefined);
        socket.once("data", () => socket.end(GARBAGE));
      }, address);
      return { fault, address, port: s.port, close: s.close };
    }
    case "truncated body": {
      let n = 0;
      const s = await startRawServer((socket: net.Socket) => {
        socket.on("error", () => undefined);
        socket.once("data", () => {
          n += 1;
          const body = `<html><body><h1>Bienvenido a webserver${(n % 2) + 1}</h1>`;
          socket.end(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${body.length + 500}\r\nConnection: close\r\n\r\n${body}`);
        });
      }, address);
      return { fault, address, port: s.port, close: s.close };
    }
  }
}
