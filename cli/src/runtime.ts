import {
  type ConfigProblem,
  formatProblems,
  type TargetName,
  targetCatalog,
  targetNames,
} from "@conhub/config";
import {
  type FetchHandler,
  httpFetch,
  inProcessFetch,
  listen,
  type RunningServer,
  type ServiceFetch,
  type TargetInstance,
  trustedProxyList,
} from "@conhub/middleware";
import { createLogger, type Logger } from "@conhub/utils";
import { type LoadedConfig, loadConfig } from "./config.js";
import { createGateway, type Upstream } from "./gateway.js";
import { checkDataDir, checkPorts } from "./preflight.js";
import { StorageFactory } from "./storage.js";
import { loadTargetModules } from "./targets.js";
import { version } from "./version.js";

export interface StartOptions {
  targets: TargetName[];
  /** Serve the gateway route table on GATEWAY_PORT (default: when every target runs here). */
  gateway?: boolean;
  env: Readonly<Record<string, string | undefined>>;
  logger?: Logger;
}

export interface Platform {
  config: LoadedConfig;
  targets: TargetName[];
  /** Ports actually bound, by target (and `gateway`). */
  ports: Partial<Record<TargetName | "gateway", number>>;
  stop(): Promise<void>;
}

export class StartupError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(`ConHub cannot start:\n${formatProblems(problems)}`);
    this.name = "StartupError";
  }
}

/**
 * Starts the given targets in this process: checks everything first (config,
 * data dir, ports) and starts nothing unless all is well; then storage,
 * targets, listeners and the gateway. On any failure, what was started is
 * stopped again before the error is thrown.
 */
export async function startPlatform(options: StartOptions): Promise<Platform> {
  const started = performance.now();
  const loaded = await loadConfig(options.targets, options.env);
  const modules = await loadTargetModules(options.targets);
  if (!loaded.ok) throw new StartupError(loaded.problems);
  const config = loaded.config;
  const baseLog = options.logger ?? createLogger({ level: config.LOG_LEVEL });
  const log = baseLog.child({ service: "conhub" });
  const withGateway = options.gateway ?? options.targets.length === targetNames.length;
  const mode = options.targets.length === targetNames.length ? "one-process" : "split";

  const listeners = options.targets.map((name) => ({
    variable: targetCatalog[name].portVar,
    port: config.ports[name],
  }));
  if (withGateway) listeners.push({ variable: "GATEWAY_PORT", port: config.GATEWAY_PORT });
  const problems = [
    ...(await checkDataDir(config.CONHUB_DATA_DIR)),
    ...(await checkPorts(listeners, config.CONHUB_HOST)),
  ];
  if (problems.length > 0) throw new StartupError(problems);

  const storage = new StorageFactory(config, log);
  const instances = new Map<TargetName, TargetInstance>();
  const servers: Array<{ name: string; server: RunningServer }> = [];
  let stopping: Promise<void> | undefined;

  const stop = () => {
    stopping ??= (async () => {
      const grace = config.SHUTDOWN_TIMEOUT_MS;
      log.info({ graceMs: grace }, "stopping: no new connections; draining in-flight requests");
      const t0 = performance.now();
      await Promise.all(servers.map(({ server }) => server.close(grace)));
      const t1 = performance.now();
      await Promise.all(
        [...instances.entries()].map(async ([name, instance]) => {
          try {
            await instance.stop?.();
          } catch (err) {
            log.error({ err, target: name }, "target did not stop cleanly");
          }
        }),
      );
      const t2 = performance.now();
      await storage.close();
      const t3 = performance.now();
      log.info(
        {
          drainMs: Math.round(t1 - t0),
          targetsMs: Math.round(t2 - t1),
          storageMs: Math.round(t3 - t2),
        },
        "stopped",
      );
    })();
    return stopping;
  };

  try {
    await storage.preflight();
    const services = {} as Record<TargetName, ServiceFetch>;
    for (const name of targetNames) {
      services[name] = options.targets.includes(name)
        ? inProcessFetch(name, (request) => instances.get(name)!.fetch(request))
        : httpFetch(config.urls[name]);
    }
    for (const name of options.targets) {
      const module = modules[name]!;
      const instance = await module.init({
        config,
        logger: baseLog.child({ service: name }),
        version,
        storage: storage.forTarget(name, module.migrations),
        services,
        mode,
      });
      instances.set(name, instance);
    }
    const ports: Platform["ports"] = {};
    const trustedProxies = trustedProxyList(config.TRUSTED_PROXIES);
    for (const name of options.targets) {
      const instance = instances.get(name)!;
      const server = await listen(
        instance.fetch,
        config.ports[name],
        config.CONHUB_HOST,
        targetCatalog[name].title,
        trustedProxies,
      );
      servers.push({ name, server });
      ports[name] = server.port;
    }
    if (withGateway) {
      const upstreams = {} as Record<TargetName, Upstream>;
      for (const name of targetNames) {
        const instance = instances.get(name);
        upstreams[name] = instance
          ? { kind: "local", fetch: instance.fetch as FetchHandler }
          : { kind: "remote", baseUrl: config.urls[name] };
      }
      const server = await listen(
        createGateway(upstreams),
        config.GATEWAY_PORT,
        config.CONHUB_HOST,
        "Gateway",
        trustedProxies,
      );
      servers.push({ name: "gateway", server });
      ports.gateway = server.port;
    }
    const host = config.CONHUB_HOST;
    log.info(
      {
        targets: options.targets,
        ports,
        mode,
        storage: storage.describe(),
        startupMs: Math.round(performance.now() - started),
        gateway: withGateway ? `http://${host}:${config.GATEWAY_PORT}` : null,
      },
      `ConHub is up: ${options.targets.length} target(s) in ${Math.round(performance.now() - started)} ms`,
    );
    return { config, targets: options.targets, ports, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
