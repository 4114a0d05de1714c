// Runs after `npm ci` / `npm install`: builds the dashboard's static export so
// `npm start` can serve it at once. Skipped when the build is already newer
// than every source file, or when CONHUB_SKIP_FRONTEND_BUILD=1.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const frontend = join(root, "frontend");
const out = join(frontend, "out", "index.html");

if (process.env.CONHUB_SKIP_FRONTEND_BUILD === "1") process.exit(0);
if (!existsSync(join(frontend, "app"))) process.exit(0);

function newest(dir) {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === ".next" || entry.name === "out") continue;
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

if (existsSync(out) && statSync(out).mtimeMs >= newest(frontend)) process.exit(0);
console.error("conhub: building the dashboard (next build)…");
const r = spawnSync("npm", ["run", "build", "-w", "frontend", "--silent"], { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);
