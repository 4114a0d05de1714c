export {
  AppError,
  type AppErrorOptions,
  type ErrorKind,
  errorKinds,
  errors,
  type FieldProblem,
  fieldProblems,
  type IssueLike,
  isAppError,
} from "./errors.js";
export { masterSecretOrDevFile, readOrCreateKeyFile } from "./key-files.js";
export { type CreateLoggerOptions, createLogger, type Logger, redactUrl } from "./logger.js";
export {
  contextFromHeaders,
  currentRequestContext,
  formatTraceparent,
  propagationHeaders,
  type RequestContext,
  runWithRequestContext,
} from "./request-context.js";
export {
  authSecretBoxDomain,
  createSecretBox,
  deriveBoxKey,
  type SecretBox,
  type SecretBoxDomain,
  SecretBoxError,
} from "./secret-box.js";
