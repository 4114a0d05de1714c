import type { DependencyStatus } from "@conhub/models";

/** A dependency `/ready` checks; storage adapters provide one each (structurally the same type). */
export interface ReadinessCheck {
  name: string;
  kind: "embedded" | "external";
  check(): Promise<void>;
}

const checkTimeoutMs = 2000;

/** Runs every check at once, each bounded by a timeout, and reports each outcome. */
export async function runReadinessChecks(checks: ReadinessCheck[]): Promise<DependencyStatus[]> {
  return Promise.all(
    checks.map(async (dep): Promise<DependencyStatus> => {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          dep.check(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`${dep.name} did not answer within ${checkTimeoutMs} ms`)),
              checkTimeoutMs,
            );
          }),
        ]);
        return { name: dep.name, kind: dep.kind, status: "up", latencyMs: elapsed(started), error: null };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        return {
          name: dep.name,
          kind: dep.kind,
          status: "down",
          latencyMs: elapsed(started),
          error: message,
        };
      } finally {
        clearTimeout(timer);
      }
    }),
  );
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
