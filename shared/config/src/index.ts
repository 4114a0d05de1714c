export {
  coreEnv,
  csv,
  type EnvShape,
  gatewayEnv,
  httpEnv,
  intInRange,
  metaOf,
  platformEnv,
  portEnv,
  storageEnv,
  urlEnv,
  type VariableMeta,
  variable,
} from "./env.js";
export { masterSecretEnv, masterSecretProblems, minimumSecretLength } from "./master-secret.js";
export {
  type ConfigProblem,
  documentVariable,
  formatProblems,
  type ParseResult,
  parseEnv,
  type VariableDoc,
} from "./parse.js";
export { isTargetName, type TargetInfo, type TargetName, targetCatalog, targetNames } from "./targets.js";
