#!/usr/bin/env node
// The `conhub` command. Registers the TypeScript loader (tsx) so the sources
// run as they are, then hands over to the CLI.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
