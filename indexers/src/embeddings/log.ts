/**
 * What the embedding providers log through: a pino `Logger` fits. Fields
 * never hold an API key (the providers do not pass it, and scrub it from
 * server messages they quote).
 */
export interface EmbeddingLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export const silentLogger: EmbeddingLogger = {
  info() {},
  warn() {},
};
