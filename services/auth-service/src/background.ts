import type { Logger } from "@conhub/utils";

/**
 * Work done after a response is sent (mail delivery, the mail of a request
 * whose timing must not depend on whether an account exists). Tracked, so a
 * stopping service — or a test — can wait for it; failures are logged.
 */
export class BackgroundTasks {
  readonly #running = new Set<Promise<void>>();
  constructor(private readonly logger: Logger) {}

  run(name: string, task: () => Promise<void>): void {
    const promise = Promise.resolve()
      .then(task)
      .catch((err: unknown) => this.logger.error({ err, task: name }, `background task ${name} failed`))
      .finally(() => this.#running.delete(promise));
    this.#running.add(promise);
  }

  /** Resolves when every task started so far (and those they started) has finished. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }
}
