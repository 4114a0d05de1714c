export { argon2Parameters } from "./accounts/passwords.js";
export { type AuthConfig, authConfigShape } from "./config.js";
export { createSecretBox, type SecretBox } from "./crypto/secret-box.js";
export { authMigrations } from "./migrations/index.js";
export { type AuthService, type AuthServiceOptions, createAuthService } from "./service.js";
export { type IssuedTokens, issueSession } from "./sessions/sessions.js";
export { authServiceTarget, minimumSecretLength } from "./target.js";
