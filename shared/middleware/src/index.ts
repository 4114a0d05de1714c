export {
  type BodyLimitRule,
  createServiceApp,
  type ServiceApp,
  type ServiceAppOptions,
  type ServiceEnv,
} from "./app.js";
export {
  type AuthEnv,
  type AuthVerifier,
  type AuthVerifierOptions,
  accessTokenAudience,
  accessTokenIssuer,
  apiKeyPrefix,
  apiKeyScopes,
  authenticate,
  bearerToken,
  callerOrganization,
  createAuthVerifier,
  defaultApiKeyCacheTtlMs,
  delegatedTokenAudience,
  isRole,
  jwksPath,
  type Principal,
  principalOf,
  type Role,
  requireRole,
  requireScope,
  roleRank,
  roles,
  type Scope,
  scopesForRole,
  type VerifyOptions,
  verifyPath,
} from "./auth/index.js";
export {
  loadServiceMasterSecret,
  requireService,
  type ServiceCallerEnv,
  serviceAuthorization,
  serviceAuthScheme,
  serviceToken,
  verifyServiceAuthorization,
  withServiceToken,
} from "./auth/service-token.js";
export { createHttpMetrics, type HttpMetrics } from "./metrics.js";
export { problemContentType, problemResponse, renderProblem, toAppError } from "./problem.js";
export { type ReadinessCheck, runReadinessChecks } from "./readiness.js";
export { listen, type RunningServer, trustedProxyList } from "./server.js";
export { type CallOptions, getJson, probeClient, ServiceCallError } from "./service-client.js";
export { type FetchHandler, httpFetch, inProcessFetch, type ServiceFetch } from "./service-fetch.js";
export {
  defineTarget,
  type PlatformConfig,
  type TargetContext,
  type TargetInstance,
  type TargetModule,
  type TargetStorage,
} from "./target.js";
export { createTargetApp, storageReadiness } from "./target-app.js";
export { jsonBody, pathParams, queryParams } from "./validate.js";
