// Commands are imported when run, so `conhub config --docs` does not load every service.
import { Command, Option } from "commander";
import { version } from "./version.js";

const program = new Command()
  .name("conhub")
  .description("ConHub: connect your team's code and documents to AI agents.")
  .version(version)
  .showHelpAfterError();

program
  .command("start", { isDefault: true })
  .description("Start targets: every one in this process by default, with the gateway on GATEWAY_PORT.")
  .option("-t, --target <names>", "comma-separated targets to run (see `conhub targets`)", "all")
  .addOption(new Option("--gateway", "serve the gateway route table even when only some targets run here"))
  .addOption(new Option("--no-gateway", "do not serve the gateway route table"))
  .action(async (opts: { target: string; gateway?: boolean }) => {
    const { runStart } = await import("./commands/start.js");
    // Exit explicitly: a failed start may leave work behind (a stuck filesystem call) that must not keep us alive.
    process.exit(await runStart(opts.target, opts.gateway));
  });

program
  .command("targets")
  .description("List the targets, their ports, gateway routes and what each can do today.")
  .option("--json", "print JSON")
  .action(async (opts: { json?: boolean }) => {
    const { printTargets } = await import("./commands/targets.js");
    await printTargets(Boolean(opts.json));
  });

program
  .command("config")
  .description("Check or document the configuration (environment variables).")
  .option("--check", "report every configuration problem at once (default)")
  .option("--env-example", "print a .env.example generated from the schemas")
  .option("--docs", "print the README's configuration table")
  .option("-t, --target <names>", "only the variables of these targets", "all")
  .action(async (opts: { check?: boolean; envExample?: boolean; docs?: boolean; target: string }) => {
    const { runConfigCommand } = await import("./commands/config.js");
    process.exitCode = await runConfigCommand(opts);
  });

program
  .command("migrate")
  .description("Apply every pending database migration of the given targets (all by default).")
  .option("-t, --target <names>", "comma-separated targets", "all")
  .action(async (opts: { target: string }) => {
    const { runMigrate } = await import("./commands/migrate.js");
    process.exitCode = await runMigrate(opts.target);
  });

program
  .command("doctor")
  .description(
    "Check this machine: configuration, data dir, ports, dependencies, and what each target can do.",
  )
  .option("-t, --target <names>", "comma-separated targets", "all")
  .option("--json", "print JSON")
  .action(async (opts: { target: string; json?: boolean }) => {
    const { runDoctor } = await import("./commands/doctor.js");
    process.exitCode = await runDoctor(opts.target, Boolean(opts.json));
  });

program
  .command("fs-mcp")
  .description(
    "Serve the filesystem MCP server on stdio (for an agent that starts it), confined to FILE_SYSTEM_ALLOWED_PATHS.",
  )
  .option("--roots <paths>", "comma-separated directories to serve (overrides FILE_SYSTEM_ALLOWED_PATHS)")
  .action(async (opts: { roots?: string }) => {
    const { runFsMcp } = await import("./commands/fs-mcp.js");
    process.exitCode = await runFsMcp(opts);
  });

const mcp = program
  .command("mcp")
  .description(
    "Serve ConHub's MCP server on stdio (for an agent that starts it): a running ConHub at CONHUB_URL with CONHUB_API_KEY, or the local index when none answers.",
  )
  .option("--url <url>", "ConHub's URL (the gateway); overrides CONHUB_URL and must answer")
  .option("--embedded", "serve the local index of the data dir without looking for a server")
  .option("--data-dir <dir>", "data directory of the local index (default: CONHUB_DATA_DIR or ~/.conhub)")
  .action(async (opts: { url?: string; embedded?: boolean; dataDir?: string }) => {
    const { runMcp } = await import("./commands/mcp.js");
    process.exitCode = await runMcp(opts);
  });

mcp
  .command("config")
  .description("Print the snippet that connects an MCP client (Claude, Cursor, VS Code) to ConHub.")
  .requiredOption("--client <name>", "claude, cursor or vscode")
  .option("--http", "connect over HTTP with an API key (default: stdio, `conhub mcp`)")
  .option("--url <url>", "ConHub's URL (default: CONHUB_URL or http://127.0.0.1:<GATEWAY_PORT>)")
  .action(async (_opts: unknown, command: Command) => {
    const { runMcpConfig } = await import("./commands/mcp.js");
    // `--url` is also an option of `conhub mcp`, which commander gives it to: read both.
    process.exitCode = runMcpConfig(
      command.optsWithGlobals<{ client: string; http?: boolean; url?: string }>(),
    );
  });

program
  .command("index")
  .description("Index a local directory into the embedded keyword index (incremental; no server needed).")
  .argument("<path>", "directory to index")
  .option("--data-dir <dir>", "data directory (default: CONHUB_DATA_DIR or ~/.conhub)")
  .option("--full", "re-read every file instead of trusting unchanged sizes and modification times")
  .option("--json", "print the summary as JSON")
  .action(async (path: string, opts: { dataDir?: string; full?: boolean; json?: boolean }) => {
    const { runIndex } = await import("./commands/index.js");
    process.exitCode = await runIndex(path, opts);
  });

program
  .command("search")
  .description("Search the embedded index (BM25 over identifier-aware tokens, path and file-name boosted).")
  .argument("<query>", "words, identifiers or a natural phrase")
  .option("--json", 'print {"results":[{"path","startLine","endLine","symbol","score","snippet"}]}')
  .option("--limit <n>", "number of results", "10")
  .option("--mode <mode>", "keyword (vector and hybrid are not built yet)", "keyword")
  .option("--path <glob>", "only paths matching this glob (e.g. 'src/**', '*.py')")
  .option("--language <names>", "only these languages (comma-separated)")
  .option("--kind <kinds>", "only these chunk kinds (function, class, section, …)")
  .option("--source <ids>", "only these source ids")
  .option("--data-dir <dir>", "data directory (default: CONHUB_DATA_DIR or ~/.conhub)")
  .action(async (query: string, opts: Record<string, string | boolean | undefined>) => {
    const { runSearch } = await import("./commands/search.js");
    process.exitCode = await runSearch(query, opts);
  });

program
  .command("grep")
  .description("Regular-expression search over indexed text (trigram prefilter, then the real regex).")
  .argument("<regex>", "a JavaScript regular expression")
  .option("-i, --ignore-case", "case-insensitive")
  .option("--json", "print JSON")
  .option("--limit <n>", "maximum matching lines", "100")
  .option("--path <glob>", "only paths matching this glob")
  .option("--language <names>", "only these languages (comma-separated)")
  .option("--data-dir <dir>", "data directory (default: CONHUB_DATA_DIR or ~/.conhub)")
  .action(async (pattern: string, opts: Record<string, string | boolean | undefined>) => {
    const { runGrep } = await import("./commands/grep.js");
    process.exitCode = await runGrep(pattern, opts);
  });

program
  .command("symbols")
  .description("Find where a function, class, method or type is defined.")
  .argument("<name>", "symbol name (case-insensitive)")
  .option("--prefix", "names starting with <name>")
  .option("--kind <kinds>", "only these kinds (function, class, method, …)")
  .option("--json", "print JSON")
  .option("--limit <n>", "number of results", "50")
  .option("--data-dir <dir>", "data directory (default: CONHUB_DATA_DIR or ~/.conhub)")
  .action(async (name: string, opts: Record<string, string | boolean | undefined>) => {
    const { runSymbols } = await import("./commands/symbols.js");
    process.exitCode = await runSymbols(name, opts);
  });

await program.parseAsync(process.argv);
