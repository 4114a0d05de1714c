/**
 * Built-in secret rules, as data: the security service will store edited
 * copies per organization. A rule is a regular expression (JavaScript
 * syntax, compiled with the `g` flag plus `flags`); when `group` is set only
 * that capture group is replaced (the password inside a connection string),
 * otherwise the whole match (`"first"`: the first group that matched).
 * `keywords` (lower-case) make a rule run only on text containing one of
 * them, which keeps redaction cheap; `minEntropy` drops matches whose secret
 * part is too regular to be a key; `allow` drops matches when it matches the
 * match with up to 40 characters before it (e.g. a `sha256 =` name).
 */
export interface SecretRule {
  id: string;
  description: string;
  pattern: string;
  flags?: string;
  group?: number | "first";
  keywords?: string[];
  minEntropy?: number;
  allow?: string;
}

/** Values that are placeholders, not secrets (`${DB_PASSWORD}`, `<token>`, `changeme`, `***`). */
export const PLACEHOLDER =
  /^(?:\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\{\{.*\}\}|<[^>]*>|%\(?[a-z_]*\)?s|\*+|x{3,}|X{3,}|\.{3}|changeme|change_me|example|password|secret|your[-_].*|none|null|undefined|true|false|string|process\.env\..*|os\.environ.*|env\(.*|\[REDACTED:[^\]]*\].*)$/i;

export const BUILTIN_RULES: readonly SecretRule[] = [
  {
    id: "private-key",
    description: "PEM private key block (RSA, EC, DSA, OpenSSH, PGP, PKCS#8), the whole block",
    pattern:
      "-----BEGIN[ A-Z0-9]{0,30}PRIVATE KEY(?: BLOCK)?-----[\\s\\S]*?-----END[ A-Z0-9]{0,30}PRIVATE KEY(?: BLOCK)?-----",
    keywords: ["private key"],
  },
  {
    id: "aws-access-key-id",
    description: "AWS access key id (AKIA…, ASIA…)",
    pattern: "\\b(?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA)[0-9A-Z]{16}\\b",
    keywords: ["akia", "asia", "abia", "acca", "aida", "aroa"],
  },
  {
    id: "aws-secret-access-key",
    description: "AWS secret access key next to an aws…secret name",
    pattern:
      "aws.{0,20}?(?:secret|private).{0,20}?[\"'`]?\\s{0,3}[:=]{1,2}>?\\s{0,3}[\"'`]?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
    flags: "i",
    group: 1,
    keywords: ["aws"],
  },
  {
    id: "github-token",
    description: "GitHub personal access, OAuth, app and refresh tokens (ghp_, gho_, ghu_, ghs_, ghr_)",
    pattern: "\\bgh[pousr]_[A-Za-z0-9]{36,255}\\b",
    keywords: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
  },
  {
    id: "github-fine-grained-token",
    description: "GitHub fine-grained personal access token (github_pat_)",
    pattern: "\\bgithub_pat_[A-Za-z0-9_]{50,255}\\b",
    keywords: ["github_pat_"],
  },
  {
    id: "gitlab-token",
    description: "GitLab personal/project/group access token (glpat-)",
    pattern: "\\bglpat-[A-Za-z0-9_-]{20,}\\b",
    keywords: ["glpat-"],
  },
  {
    id: "slack-token",
    description: "Slack bot, user, app and refresh tokens (xoxb-, xoxp-, xoxa-, xoxr-, xoxs-)",
    pattern: "\\bxox[baprs]-[A-Za-z0-9-]{10,}",
    keywords: ["xox"],
  },
  {
    id: "slack-webhook",
    description: "Slack incoming webhook URL",
    pattern: "https://hooks\\.slack\\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{16,}",
    keywords: ["hooks.slack.com"],
  },
  {
    id: "stripe-key",
    description: "Stripe secret and restricted keys (sk_live_, rk_live_, and their test variants)",
    pattern: "\\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}\\b",
    keywords: ["k_live_", "k_test_"],
  },
  {
    id: "anthropic-key",
    description: "Anthropic API key (sk-ant-)",
    pattern: "\\bsk-ant-[A-Za-z0-9_-]{20,}",
    keywords: ["sk-ant-"],
  },
  {
    id: "openai-key",
    description: "OpenAI API key (sk-, sk-proj-, sk-svcacct-): mixed case with digits",
    pattern:
      "\\bsk-(?:proj-|svcacct-|admin-)?(?=[A-Za-z0-9_-]{20,})(?=[A-Za-z0-9_-]*[0-9])(?=[A-Za-z0-9_-]*[A-Z])(?=[A-Za-z0-9_-]*[a-z])[A-Za-z0-9_-]{20,}",
    keywords: ["sk-"],
  },
  {
    id: "google-api-key",
    description: "Google API key (AIza…)",
    pattern: "\\bAIza[0-9A-Za-z_-]{35}\\b",
    keywords: ["aiza"],
  },
  {
    id: "jwt",
    description: "JSON Web Token (three base64url parts, header and payload JSON)",
    pattern: "\\beyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}",
    keywords: ["eyj"],
  },
  {
    id: "connection-string-password",
    description:
      "Password inside a database or broker URL (postgres://user:pass@, mongodb+srv://, redis://:pass@…)",
    pattern:
      "\\b(?:postgres(?:ql)?|mysql|mariadb|mssql|sqlserver|oracle|mongodb(?:\\+srv)?|redis|rediss|amqps?|nats|clickhouse|cockroachdb|ftp|sftp|smtp|smtps|ldaps?)://[^\\s:/@'\"`]*:([^\\s@/'\"`]+)@",
    flags: "i",
    group: 1,
    keywords: ["://"],
  },
  {
    id: "password-assignment",
    description: 'A password, secret, token or API key assigned a literal (`password = "…"`, `secret: …`)',
    pattern:
      "(?:password|passwd|passphrase|pwd|secret|api[_-]?key|apikey|access[_-]?token|auth[_-]?token|client[_-]?secret|private[_-]?key)[A-Za-z0-9_.-]{0,30}[\"']?\\s{0,3}(?::=|=>|[:=])\\s{0,3}(?:\"([^\"\\s]{4,200})\"|'([^'\\s]{4,200})'|(?=[^\\s\"',;)]*[0-9])([^\\s\"',;)(#]{8,200}))",
    flags: "i",
    group: "first",
    keywords: ["pass", "pwd", "secret", "key", "token"],
  },
  {
    id: "high-entropy-assignment",
    description:
      "A long random-looking literal assigned to a name (Shannon entropy ≥ 4.2 bits per character)",
    pattern: "(?::=|=>|[:=])\\s{0,3}[\"'`]([A-Za-z0-9+/_=-]{24,128})[\"'`]",
    group: 1,
    minEntropy: 4.2,
    allow:
      "(?:hash|sha\\d*|md5|checksum|integrity|digest|etag|commit|revision|uuid|guid|nonce|colou?r|icon|image|img|font|sprite|base64|fingerprint|signature|pattern|regex|alphabet|charset|chars)[A-Za-z0-9_]*[\"']?\\s{0,3}(?::=|=>|[:=])\\s{0,3}[\"'`][^\"'`]*[\"'`]$",
  },
];
