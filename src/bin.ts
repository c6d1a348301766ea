#!/usr/bin/env node
import { main } from "./cli.js";

// A closed pipe (`hagrade run | head`) must not kill a run that may have a web server stopped:
// output is dropped, the run goes on and restores what it changed.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
  });
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
