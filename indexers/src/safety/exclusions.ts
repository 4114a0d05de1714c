import { globToRegExp } from "./glob.js";

/**
 * Paths that are never indexed, whatever their content: secrets in files of
 * their own (environment files, keys, credentials). Patterns are globs (see
 * `glob.ts`); a pattern starting with `!` re-includes what an earlier one
 * excluded (the last matching pattern wins, as in .gitignore).
 */
export const DEFAULT_EXCLUSIONS: readonly string[] = [
  ".env",
  ".env.*",
  "*.env",
  "!.env.example",
  "!.env.sample",
  "!.env.template",
  "!.env.dist",
  "*.pem",
  "*.key",
  "*.p12",
  "*.pfx",
  "*.jks",
  "*.keystore",
  "*.kdbx",
  "*.gpg",
  "*.asc",
  "id_rsa*",
  "id_dsa*",
  "id_ecdsa*",
  "id_ed25519*",
  "*.ppk",
  "**/.git/**",
  "**/.ssh/**",
  "**/.aws/credentials",
  "**/.aws/config",
  "**/.docker/config.json",
  "**/.kube/config",
  "kubeconfig",
  ".git-credentials",
  ".netrc",
  "_netrc",
  ".npmrc",
  ".pypirc",
  ".htpasswd",
  "credentials",
  "credentials.json",
  "credentials.yml",
  "credentials.yaml",
  "*credentials*.json",
  "service-account*.json",
  "secrets.yml",
  "secrets.yaml",
  "secrets.json",
  "*.tfstate",
  "*.tfstate.backup",
  "*.tfvars",
];

export interface ExclusionMatcher {
  /** The pattern that excludes the path, or undefined when it may be indexed. */
  match(path: string): string | undefined;
}

/** Compiles exclusion globs once; `match` is then a few regex tests per path. */
export function compileExclusions(patterns: readonly string[] = DEFAULT_EXCLUSIONS): ExclusionMatcher {
  const rules = patterns
    .map((p) => p.trim())
    .filter((p) => p !== "" && !p.startsWith("#"))
    .map((p) => {
      const negated = p.startsWith("!");
      const glob = negated ? p.slice(1) : p;
      return { pattern: p, negated, regex: globToRegExp(glob) };
    });
  return {
    match(path: string): string | undefined {
      let excludedBy: string | undefined;
      for (const rule of rules) {
        if (rule.regex.test(path)) excludedBy = rule.negated ? undefined : rule.pattern;
      }
      return excludedBy;
    },
  };
}
