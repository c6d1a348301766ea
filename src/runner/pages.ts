import { shQuote } from "../ssh/index.js";

/**
 * A shell command that prints the body of http://host:port/path from a lab machine, with
 * whatever it has: curl, wget, or bash's /dev/tcp (minimal CentOS and Debian installs differ).
 * The path may come from a student's keepalived.conf: every piece reaches the shell as one
 * quoted word, and the /dev/tcp request writes it with printf's %s, never as printf's format.
 */
export function fetchPageCommand(host: string, port: number, path = "/"): string {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`not a TCP port: ${port}`);
  const url = `http://${host}:${port}${path}`;
  const raw =
    `exec 3<>${shQuote(`/dev/tcp/${host}/${port}`)} && ` +
    `printf 'GET %s HTTP/1.0\\r\\nHost: %s\\r\\n\\r\\n' ${shQuote(path)} ${shQuote(host)} >&3 && ` +
    `sed '1,/^\\r\\{0,1\\}$/d' <&3`;
  return [
    `if command -v curl >/dev/null 2>&1; then curl -s -m 5 ${shQuote(url)};`,
    `elif command -v wget >/dev/null 2>&1; then wget -q -T 5 -O - ${shQuote(url)};`,
    `else timeout 5 bash -c ${shQuote(raw)}; fi`,
  ].join(" ");
}
