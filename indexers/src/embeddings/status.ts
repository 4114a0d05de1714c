import { type EmbeddingState, type EmbeddingStatus, EmbeddingUnavailableError } from "../ports/embeddings.js";

/** The mutable half of `EmbeddingStatus`, kept by a provider as calls succeed and fail. */
export class StatusTracker {
  private state: EmbeddingState = "idle";
  private reason: string | undefined;
  private embedded = 0;

  constructor(
    private readonly provider: EmbeddingStatus["provider"],
    private readonly model: string,
  ) {}

  loading(): void {
    this.state = "loading";
  }

  ready(embeddedNow = 0): void {
    this.state = "ready";
    this.reason = undefined;
    this.embedded += embeddedNow;
  }

  /** Records an unavailable error (and returns it, to be thrown). Other errors leave the state alone. */
  failed<E>(error: E): E {
    if (error instanceof EmbeddingUnavailableError) {
      this.state = "unavailable";
      this.reason = error.reason;
    }
    return error;
  }

  snapshot(): EmbeddingStatus {
    return {
      provider: this.provider,
      model: this.model,
      state: this.state,
      ...(this.reason === undefined ? {} : { reason: this.reason }),
      embedded: this.embedded,
    };
  }
}
