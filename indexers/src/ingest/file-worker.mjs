// The ingest worker's entry when no bundle can be built (`worker-entry.ts`):
// worker threads do not inherit the module hooks the parent registered
// (Node 20), so the TypeScript loader the CLI uses (tsx, see
// cli/bin/conhub.mjs) is registered here before the worker's module loads.
import { register } from "tsx/esm/api";

register();
await import("./file-worker-loop.ts");
