import { EventEmitter } from "node:events";

/**
 * In-process notifications that a source's run changed, so an SSE stream
 * served by the process running the sync answers at once. Streams also poll
 * the database, which covers syncs running in another process.
 */
export class SyncEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  changed(sourceId: string): void {
    this.emitter.emit(sourceId);
  }

  subscribe(sourceId: string, listener: () => void): () => void {
    this.emitter.on(sourceId, listener);
    return () => this.emitter.off(sourceId, listener);
  }
}
