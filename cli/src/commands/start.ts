import { createLogger } from "@conhub/utils";
import { resolveTargets, UnknownTargetError } from "../target-names.js";

/** `conhub start`: runs until SIGINT/SIGTERM, then drains and exits 0 (a second signal exits at once). */
export async function runStart(targetSpec: string, gateway: boolean | undefined): Promise<number> {
  let targets: ReturnType<typeof resolveTargets>;
  try {
    targets = resolveTargets(targetSpec);
  } catch (err) {
    if (err instanceof UnknownTargetError) {
      console.error(`ConHub cannot start:\n  - --target: ${err.message}`);
      return 2;
    }
    throw err;
  }
  // Loaded only now, so a mistyped target name is reported at once.
  const { StartupError, startPlatform } = await import("../runtime.js");
  let platform: Awaited<ReturnType<typeof startPlatform>>;
  try {
    platform = await startPlatform({
      targets,
      env: process.env,
      ...(gateway === undefined ? {} : { gateway }),
    });
  } catch (err) {
    if (err instanceof StartupError) {
      console.error(err.message);
      return 2;
    }
    console.error(`ConHub cannot start: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  const gatewayPort = platform.ports.gateway;
  if (gatewayPort !== undefined) {
    console.error(`ConHub is running. Open http://localhost:${gatewayPort}/ — press Ctrl-C to stop.`);
  }
  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals += 1;
      if (signals > 1) {
        console.error(`Received ${signal} again: exiting now.`);
        process.exit(1);
      }
      // Whatever happens, do not outlive the grace period by much.
      setTimeout(() => {
        createLogger({ name: "conhub" }).error("shutdown took too long; exiting");
        process.exit(1);
      }, platform.config.SHUTDOWN_TIMEOUT_MS + 2000).unref();
      platform.stop().then(resolve, resolve);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
  return 0;
}
