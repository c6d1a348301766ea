import { shQuote } from "../ssh/index.js";

/**
 * A shell command that prints the body of http://host:port/path from a lab machine, with
 * whatever it has: curl, wget, or bash's /dev/tcp (minimal CentOS and Debian installs differ).
 */
export function fetchPageCommand(host: string, port: number, path = "/"): string {
  const url = `http://${host}:${port}${path}`;
  const raw = `exec 3<>/dev/tcp/${host}/${port} && printf 'GET ${path} HTTP/1.0\\r\\nHost: ${host}\\r\\n\\r\\n' >&3 && sed '1,/^\\r\\{0,1\\}$/d' <&3`;
  return [
    `if command -v curl >/dev/null 2>&1; then curl -s -m 5 ${shQuote(url)};`,
    `elif command -v wget >/dev/null 2>&1; then wget -q -T 5 -O - ${shQuote(url)};`,
    `else timeout 5 bash -c ${shQuote(raw)}; fi`,
  ].join(" ");
}
