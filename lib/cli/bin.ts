#!/usr/bin/env node
// The `librechat-auth` command. Everything it does lives in run.ts, tested in-process and through this file.
import { runCli } from './run.ts'

// The command's configuration is its environment, as for LibreChat's scripts.
// eslint-disable-next-line no-restricted-syntax
process.exitCode = await runCli(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env })
