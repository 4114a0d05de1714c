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
    printTargets(Boolean(opts.json));
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
    process.exitCode = runConfigCommand(opts);
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

await program.parseAsync(process.argv);
