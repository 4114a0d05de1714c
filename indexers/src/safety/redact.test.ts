import { describe, expect, it } from "vitest";
import { createRedactor, redactSecrets, shannonEntropy } from "./redact.js";
import { BUILTIN_RULES } from "./rules.js";

// Fake secrets are assembled at run time so this file does not itself look like it leaks keys.
const fake = {
  awsId: `AKIA${"IOSFODNN7EXAMPLE"}`,
  awsSecret: `wJalrXUtnFEMI/K7MDENG/${"bPxRfiCYEXAMPLEKEY"}`,
  ghp: `ghp_${"x7Kq9Lm2Np4Rs6Tv8Wy0Za1Bc3De5Fg7Hj9K"}`,
  ghPat: `github_pat_${"11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab"}`,
  gho: `gho_${"16C7e42F292c6912E7710c838347Ae178B4a"}`,
  glpat: `glpat-${"xK9mP2qR7vT4wY8zB3nC"}`,
  slack: `xoxb-${"2048-123456789012-AbCdEfGhIjKlMnOpQrStUvWx"}`,
  stripe: `sk_live_${"51H8xYzAbCdEfGhIjKlMnOpQr"}`,
  stripeRk: `rk_live_${"51H8xYzAbCdEfGhIjKlMnOpQr"}`,
  openai: `sk-proj-${"Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z_Ab3dEf6hIj9kLm2nOp5q"}`,
  openaiLegacy: `sk-${"Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb3dEf6hIj9kLm2n"}`,
  anthropic: `sk-ant-api03-${"Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z_Ab3dEf6hIj9kLm2nOp5q-AA"}`,
  google: `AIza${"SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"}`,
  jwt: `eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.${"eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0"}.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c`,
};

const privateKey = [
  `-----BEGIN RSA ${"PRIVATE KEY"}-----`,
  "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
  "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK",
  "LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo",
  `-----END RSA ${"PRIVATE KEY"}-----`,
].join("\n");

describe("secret redaction: positives", () => {
  it.each([
    ["aws-access-key-id", `aws_access_key_id = ${fake.awsId}`],
    ["aws-secret-access-key", `aws_secret_access_key = ${fake.awsSecret}`],
    ["github-token", `token: ${fake.ghp}`],
    ["github-token", `git clone https://${fake.gho}@github.com/acme/app`],
    ["github-fine-grained-token", `GH=${fake.ghPat}`],
    ["gitlab-token", `curl -H "PRIVATE-TOKEN: ${fake.glpat}" https://gitlab.example.com/api/v4/projects`],
    ["slack-token", `slack = WebClient(${JSON.stringify(fake.slack)})`],
    ["stripe-key", `Stripe.apiKey = ${fake.stripe};`],
    ["stripe-key", `restricted: ${fake.stripeRk}`],
    ["openai-key", `OPENAI_API_KEY=${fake.openai}`],
    ["openai-key", `client = OpenAI(api_key=${fake.openaiLegacy})`],
    ["anthropic-key", `ANTHROPIC_API_KEY=${fake.anthropic}`],
    ["google-api-key", `const MAPS_KEY = "${fake.google}";`],
    ["jwt", `Authorization: Bearer ${fake.jwt}`],
    ["connection-string-password", "DATABASE_URL=postgres://app:s3cr3t-P4ss@db.internal:5432/app"],
    ["connection-string-password", 'uri = "mongodb+srv://admin:hunter2Xy@cluster0.abcde.mongodb.net/test"'],
    ["connection-string-password", "REDIS_URL=redis://:Zm9vYmFy9@cache:6379/0"],
    ["password-assignment", 'db_password = "correct-horse-battery"'],
    ["password-assignment", "  secret: q8Wd2kLp0vZx"],
    ["password-assignment", "SMTP_PASSWORD='Tr0ub4dor&3'"],
    ["high-entropy-assignment", 'sessionSigner := "Qm9vdHN0cmFwS2V5MTIzNDU2Nzg5MGFiY2RlZg8fZ2"'],
  ])("%s: %s", (rule, line) => {
    const result = redactSecrets(`before\n${line}\nafter`);
    expect(result.counts[rule]).toBeGreaterThanOrEqual(1);
    expect(result.text).toContain(`[REDACTED:${rule}]`);
    expect(result.text.split("\n")).toHaveLength(3);
    expect(result.text.startsWith("before\n") && result.text.endsWith("\nafter")).toBe(true);
  });

  it("replaces a whole private key block and keeps the line count", () => {
    const text = `const key = \`\n${privateKey}\n\`;\nexport default key;\n`;
    const result = redactSecrets(text);
    expect(result.counts).toEqual({ "private-key": 1 });
    expect(result.text).not.toContain("MIIEow");
    expect(result.text.split("\n")).toHaveLength(text.split("\n").length);
    expect(result.text.split("\n")[1]).toBe("[REDACTED:private-key]");
    expect(result.text.split("\n")[7]).toBe("export default key;");
  });

  it("keeps the parts around the secret: user and host of a URL, the key name", () => {
    const result = redactSecrets("postgres://app:s3cr3t-P4ss@db.internal:5432/app");
    expect(result.text).toBe("postgres://app:[REDACTED:connection-string-password]@db.internal:5432/app");
    expect(redactSecrets('password = "correct-horse-battery"').text).toBe(
      'password = "[REDACTED:password-assignment]"',
    );
  });

  it("counts per rule across a realistic config file", () => {
    const config = [
      "# production settings",
      `AWS_ACCESS_KEY_ID=${fake.awsId}`,
      `AWS_SECRET_ACCESS_KEY=${fake.awsSecret}`,
      `GITHUB_TOKEN=${fake.ghp}`,
      "DATABASE_URL=postgresql://svc:pa55w0rd-Z@10.0.0.5/prod",
      "LOG_LEVEL=info",
    ].join("\n");
    const result = redactSecrets(config);
    expect(result.counts).toMatchObject({
      "aws-access-key-id": 1,
      "aws-secret-access-key": 1,
      "github-token": 1,
      "connection-string-password": 1,
    });
    expect(result.text).toContain("LOG_LEVEL=info");
    expect(result.text).not.toMatch(/AKIA|wJalr|ghp_|pa55w0rd/);
  });
});

describe("secret redaction: negatives", () => {
  it.each([
    ["UUIDs", 'const requestId = "3f2b8c1e-9d4a-4f6b-8e2c-7a1d5b9c0e3f";'],
    [
      "git SHAs",
      'commit = "9fceb02d0ae598e95dc970b74767f19372d61af8"\nconst rev = "e83c5163316f89bfbde7d9ab23ca2e25604af290";',
    ],
    ["sha256 digests", 'integrity: "sha512-3x8B2kPq9Lm2Np4Rs6Tv8Wy0Za1Bc3De5Fg7Hj9KmNoPqRsTu"'],
    [
      "base64 images in code",
      'const pixel = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";',
    ],
    ["hex colour lists", 'palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]'],
    [
      "code reading a password",
      "const password = await prompt('Password: ');\nif (password.length < 8) throw new Error('short');",
    ],
    ["TypeScript types", "interface Login {\n  password: string;\n  apiKey?: string | null;\n}"],
    [
      "placeholders",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell-style placeholders are what is tested
      'password = "${DB_PASSWORD}"\napi_key: <your-api-key>\nsecret = "changeme"\nDATABASE_URL=postgres://user:${PGPASSWORD}@db/app',
    ],
    [
      "URLs without passwords",
      "postgres://postgres@127.0.0.1:5432/postgres\nredis://localhost:6379\nhttps://user@example.com/path",
    ],
    [
      "kebab-case words after sk-",
      "const className = 'task-list-item-checkbox-wrapper-large';\nrisk-assessment-quarterly-report-2024",
    ],
    [
      "long identifiers",
      'const name = "ThisIsAVeryLongComponentNameForTesting";\nkey = "user_preferences_notification_settings"',
    ],
    ["file paths", 'const template = "src/components/dashboard/widgets/chart";'],
  ])("leaves %s alone", (_label, text) => {
    const result = redactSecrets(text);
    expect(result.counts).toEqual({});
    expect(result.text).toBe(text);
  });
});

describe("rules as data", () => {
  it("every built-in rule compiles and has an id and a description", () => {
    expect(() => createRedactor(BUILTIN_RULES)).not.toThrow();
    const ids = BUILTIN_RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of BUILTIN_RULES) expect(rule.description.length).toBeGreaterThan(10);
  });

  it("runs custom rules and names the broken one", () => {
    const redactor = createRedactor([
      { id: "acme-token", description: "ACME internal token", pattern: "acme_[a-z0-9]{12}" },
    ]);
    expect(redactor.redact("t = acme_abcdef123456").text).toBe("t = [REDACTED:acme-token]");
    expect(() => createRedactor([{ id: "bad", description: "broken", pattern: "(" }])).toThrow(/bad/);
  });

  it("measures entropy in bits per character", () => {
    expect(shannonEntropy("aaaa")).toBe(0);
    expect(shannonEntropy("abcd")).toBe(2);
    expect(shannonEntropy("9fceb02d0ae598e95dc970b74767f19372d61af8")).toBeLessThanOrEqual(4);
  });
});
