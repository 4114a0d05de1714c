export {
  type AuthEnv,
  authenticate,
  bearerToken,
  callerOrganization,
  principalOf,
  requireRole,
  requireScope,
} from "./authenticate.js";
export {
  accessTokenAudience,
  accessTokenIssuer,
  apiKeyPrefix,
  apiKeyScopes,
  delegatedTokenAudience,
  isRole,
  jwksPath,
  type Principal,
  type Role,
  roleRank,
  roles,
  type Scope,
  scopesForRole,
  verifyPath,
} from "./principal.js";
export {
  type AuthVerifier,
  type AuthVerifierOptions,
  createAuthVerifier,
  defaultApiKeyCacheTtlMs,
  type VerifyOptions,
} from "./verifier.js";
