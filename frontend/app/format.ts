import type { PlatformStatus, TargetStatus } from "@conhub/models";

export type TargetState = "ready" | "not-ready" | "unreachable";

export function targetState(t: TargetStatus): TargetState {
  if (!t.reachable) return "unreachable";
  return t.ready ? "ready" : "not-ready";
}

export const stateLabel: Record<TargetState, string> = {
  ready: "Ready",
  "not-ready": "Not ready",
  unreachable: "Unreachable",
};

/** A symbol beside every state, so the state is never conveyed by colour alone. */
export const stateSymbol: Record<TargetState, string> = {
  ready: "✓",
  "not-ready": "✕",
  unreachable: "!",
};

export interface Summary {
  total: number;
  ready: number;
  notReady: number;
  unreachable: number;
  headline: string;
  state: TargetState | "empty";
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function summarize(status: PlatformStatus): Summary {
  const total = status.targets.length;
  let ready = 0;
  let notReady = 0;
  let unreachable = 0;
  for (const t of status.targets) {
    const s = targetState(t);
    if (s === "ready") ready++;
    else if (s === "not-ready") notReady++;
    else unreachable++;
  }
  if (total === 0) {
    return {
      total,
      ready,
      notReady,
      unreachable,
      headline: "The gateway reports no services",
      state: "empty",
    };
  }
  const down = total - ready;
  const headline =
    down === 0
      ? total === 1
        ? "The only service is ready"
        : `All ${total} services ready`
      : `${down} of ${plural(total, "service", "services")} not ready`;
  const state: TargetState = down === 0 ? "ready" : unreachable > 0 ? "unreachable" : "not-ready";
  return { total, ready, notReady, unreachable, headline, state };
}

/** "just now", "4 s ago", "3 min ago", "2 h ago". */
export function ago(fromMs: number, nowMs: number): string {
  const s = Math.max(0, Math.round((nowMs - fromMs) / 1000));
  if (s < 1) return "just now";
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  return `${Math.floor(m / 60)} h ago`;
}

export function ms(value: number | null): string {
  if (value === null) return "—";
  return value < 10 ? `${Math.round(value * 10) / 10} ms` : `${Math.round(value)} ms`;
}

export const modeLabel: Record<PlatformStatus["mode"], string> = {
  "one-process": "all-in-one (one process)",
  split: "split (services in separate processes)",
};
