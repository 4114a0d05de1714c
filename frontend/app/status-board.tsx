"use client";

import type { DependencyStatus, PlatformStatus, TargetStatus } from "@conhub/models";
import { useEffect, useState } from "react";
import {
  ago,
  modeLabel,
  ms,
  stateLabel,
  stateSymbol,
  summarize,
  type TargetState,
  targetState,
} from "./format";
import { type FailureKind, fetchStatus, POLL_INTERVAL_MS } from "./status-client";

const failureHeadline: Record<FailureKind, string> = {
  unreachable: "Cannot reach the ConHub gateway",
  unreadable: "Cannot read the status the ConHub gateway sent",
};

interface BoardState {
  /** The last status received, kept while later requests fail. */
  status: PlatformStatus | null;
  /** Browser time the last status arrived (not the server's clock, which may differ). */
  receivedAt: number | null;
  /** Why the latest request failed; null once a request succeeds. */
  error: { kind: FailureKind; message: string } | null;
  /** Browser time of the latest attempt, successful or not. */
  attemptedAt: number | null;
}

export function StatusBoard() {
  const [board, setBoard] = useState<BoardState>({
    status: null,
    receivedAt: null,
    error: null,
    attemptedAt: null,
  });
  const [now, setNow] = useState<number | null>(null);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      const result = await fetchStatus();
      if (stopped) return;
      const at = Date.now();
      setBoard((prev) =>
        result.ok
          ? { status: result.status, receivedAt: at, error: null, attemptedAt: at }
          : { ...prev, error: { kind: result.kind, message: result.error }, attemptedAt: at },
      );
      setNow(at);
      timer = setTimeout(poll, POLL_INTERVAL_MS);
    };
    void poll();
    const tick = setInterval(() => setNow(Date.now()), 1_000);
    return () => {
      stopped = true;
      clearTimeout(timer);
      clearInterval(tick);
    };
  }, []);

  const { status, receivedAt, error, attemptedAt } = board;
  const summary = status ? summarize(status) : null;

  return (
    <>
      <header className="masthead">
        <div className="brand">
          <span className="logo" aria-hidden="true">
            C
          </span>
          <div>
            <p className="product">ConHub</p>
            <h1>Service status</h1>
          </div>
        </div>
        <div className="overall" aria-live="polite">
          {error ? (
            <p className="headline state-unreachable">
              <span className="symbol" aria-hidden="true">
                !
              </span>
              {failureHeadline[error.kind]}
            </p>
          ) : summary ? (
            <p className={`headline state-${summary.state}`}>
              <span className="symbol" aria-hidden="true">
                {summary.state === "empty" ? "?" : stateSymbol[summary.state]}
              </span>
              {summary.headline}
            </p>
          ) : (
            <p className="headline state-pending">Loading the status of every service…</p>
          )}
          {summary && summary.total > 0 && (
            <p className="counts">
              {error ? "Last known: " : ""}
              {summary.ready} ready · {summary.notReady} not ready · {summary.unreachable} unreachable
            </p>
          )}
        </div>
      </header>

      {error && (
        <div className="alert" role="alert">
          <p>
            <strong>{failureHeadline[error.kind]}:</strong> {error.message}
          </p>
          <p>
            Retrying every {POLL_INTERVAL_MS / 1000} s
            {attemptedAt !== null && now !== null ? ` (last try ${ago(attemptedAt, now)})` : ""}.
            {status && receivedAt !== null && now !== null
              ? ` Below is the last status received, ${ago(receivedAt, now)}; it may be out of date.`
              : " No status has been received yet."}
          </p>
        </div>
      )}

      {status && (
        <>
          <p className="meta">
            <span>
              Last updated{" "}
              <time dateTime={status.generatedAt} title={status.generatedAt}>
                {receivedAt !== null && now !== null ? ago(receivedAt, now) : "just now"}
              </time>
            </span>
            <span>Refreshes every {POLL_INTERVAL_MS / 1000} s</span>
            <span>Mode: {modeLabel[status.mode]}</span>
            <span>Version {status.version}</span>
          </p>

          {status.targets.length > 0 && <Overview targets={status.targets} stale={error !== null} />}

          <section aria-labelledby="details-heading" className={error ? "stale" : undefined}>
            <h2 id="details-heading">Services in detail</h2>
            <ul className="cards">
              {status.targets.map((t) => (
                <li key={t.name}>
                  <TargetCard target={t} />
                </li>
              ))}
            </ul>
          </section>
        </>
      )}
    </>
  );
}

function Badge({ state }: { state: TargetState }) {
  return (
    <span className={`badge state-${state}`}>
      <span aria-hidden="true">{stateSymbol[state]}</span> {stateLabel[state]}
    </span>
  );
}

function Route({ prefix }: { prefix: string | null }) {
  return prefix === null ? <span className="muted">none (port only)</span> : <code>{prefix}</code>;
}

function Overview({ targets, stale }: { targets: TargetStatus[]; stale: boolean }) {
  return (
    <section aria-labelledby="overview-heading" className={stale ? "stale" : undefined}>
      <h2 id="overview-heading">Overview</h2>
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">State of every ConHub service</caption>
          <thead>
            <tr>
              <th scope="col">Service</th>
              <th scope="col">State</th>
              <th scope="col" className="num">
                Port
              </th>
              <th scope="col">Gateway route</th>
              <th scope="col" className="num">
                Latency
              </th>
              <th scope="col">Dependencies</th>
            </tr>
          </thead>
          <tbody>
            {targets.map((t) => {
              const down = t.checks.filter((c) => c.status === "down");
              return (
                <tr key={t.name}>
                  <th scope="row">
                    <a href={`#target-${t.name}`}>{t.title}</a>
                    <span className="name">{t.name}</span>
                  </th>
                  <td>
                    <Badge state={targetState(t)} />
                  </td>
                  <td className="num">{t.port}</td>
                  <td>
                    <Route prefix={t.gatewayPrefix} />
                  </td>
                  <td className="num">{t.reachable ? ms(t.latencyMs) : "—"}</td>
                  <td>
                    {!t.reachable ? (
                      <span className="muted">unknown</span>
                    ) : t.checks.length === 0 ? (
                      <span className="muted">none</span>
                    ) : down.length === 0 ? (
                      `${t.checks.length} up`
                    ) : (
                      <span className="down-text">
                        {down.length} of {t.checks.length} down: {down.map((c) => c.name).join(", ")}
                      </span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Check({ check }: { check: DependencyStatus }) {
  const up = check.status === "up";
  return (
    <li className={`check ${up ? "check-up" : "check-down"}`}>
      <span className="check-status">
        <span aria-hidden="true">{up ? "✓" : "✕"}</span> {up ? "Up" : "Down"}
      </span>{" "}
      <code>{check.name}</code> <span className={`kind kind-${check.kind}`}>{check.kind}</span>{" "}
      <span className="muted">{ms(check.latencyMs)}</span>
      {check.error && <p className="check-error">{check.error}</p>}
    </li>
  );
}

function TargetCard({ target: t }: { target: TargetStatus }) {
  const state = targetState(t);
  const caps = t.capabilities;
  return (
    <article className={`card card-${state}`} id={`target-${t.name}`} aria-labelledby={`title-${t.name}`}>
      <header className="card-head">
        <h3 id={`title-${t.name}`}>
          {t.title} <span className="name">{t.name}</span>
        </h3>
        <Badge state={state} />
      </header>
      <dl className="facts">
        <div>
          <dt>Port</dt>
          <dd>{t.port}</dd>
        </div>
        <div>
          <dt>Gateway route</dt>
          <dd>
            <Route prefix={t.gatewayPrefix} />
          </dd>
        </div>
        <div>
          <dt>Latency</dt>
          <dd>{t.reachable ? ms(t.latencyMs) : "no answer"}</dd>
        </div>
        <div>
          <dt>Address</dt>
          <dd>
            <code>{t.url}</code>
          </dd>
        </div>
      </dl>
      {t.error && (
        <p className="target-error">
          <strong>{t.reachable ? "Problem:" : "No answer:"}</strong> {t.error}
        </p>
      )}

      <h4>Dependencies</h4>
      {!t.reachable ? (
        <p className="muted">Unknown while the service does not answer.</p>
      ) : t.checks.length === 0 ? (
        <p className="muted">None checked.</p>
      ) : (
        <ul className="checks">
          {t.checks.map((c) => (
            <Check key={c.name} check={c} />
          ))}
        </ul>
      )}

      <h4>What it does</h4>
      <p>{caps.summary}</p>
      {t.reachable || caps.available.length > 0 || caps.planned.length > 0 ? (
        <div className="caps">
          <div>
            <h5>Available today</h5>
            {caps.available.length > 0 ? (
              <ul>
                {caps.available.map((a) => (
                  <li key={a}>{a}</li>
                ))}
              </ul>
            ) : (
              <p className="muted">Nothing yet.</p>
            )}
          </div>
          <div>
            <h5>
              Planned
              {caps.issue !== null && <span className="issue"> · issue #{caps.issue}</span>}
            </h5>
            {caps.planned.length > 0 ? (
              <ul>
                {caps.planned.map((p) => (
                  <li key={p}>{p}</li>
                ))}
              </ul>
            ) : (
              <p className="muted">Nothing further planned.</p>
            )}
          </div>
        </div>
      ) : null}
    </article>
  );
}
