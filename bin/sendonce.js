#!/usr/bin/env node
// The `sendonce` command. Runs the compiled CLI when built (npm run build / the Docker image), else the
// TypeScript sources through tsx.
const path = require('node:path');
const fs = require('node:fs');
const compiled = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
let cli;
if (fs.existsSync(compiled)) {
  cli = require(compiled);
} else {
  require('tsx/cjs');
  cli = require('../src/cli/main.ts');
}
cli.runCli(process.argv.slice(2)).then((code) => process.exit(code));
