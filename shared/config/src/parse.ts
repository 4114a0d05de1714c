import { z } from "zod";
import { type EnvShape, metaOf } from "./env.js";

/** One problem with one variable, worded for the person who set it. */
export interface ConfigProblem {
  variable: string;
  message: string;
}

export type ParseResult<T> = { ok: true; config: T } | { ok: false; problems: ConfigProblem[] };

/** Parses the environment against a shape, reporting every problem at once (never the first only). */
export function parseEnv<S extends EnvShape>(
  shape: S,
  env: Readonly<Record<string, string | undefined>>,
): ParseResult<z.output<z.ZodObject<S>>> {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(shape)) {
    const raw = env[key];
    // An empty assignment (`FOO=`) means "not set", as in most .env tooling.
    input[key] = raw === undefined || raw.trim() === "" ? undefined : raw;
  }
  const result = z.object(shape).safeParse(input);
  if (result.success) return { ok: true, config: result.data };
  const problems = result.error.issues.map((issue) => {
    const variable = String(issue.path[0] ?? "(environment)");
    const meta = shape[variable] ? metaOf(shape[variable]) : undefined;
    const raw = input[variable];
    const shown = raw === undefined ? "" : meta?.secret ? " (value hidden)" : ` (got "${truncate(raw)}")`;
    return { variable, message: `${cleanMessage(issue.message)}${shown}` };
  });
  return { ok: false, problems };
}

function truncate(value: string): string {
  return value.length > 60 ? `${value.slice(0, 57)}...` : value;
}

function cleanMessage(message: string): string {
  return message.replace(/^Invalid input: /, "").replace(/^Invalid option: /, "must be one of: ");
}

export function formatProblems(problems: ConfigProblem[]): string {
  return problems.map((p) => `  - ${p.variable}: ${p.message}`).join("\n");
}

/** A documented variable, for `.env.example` and the README table. */
export interface VariableDoc {
  name: string;
  description: string;
  default: string | undefined;
  example: string | undefined;
  secret: boolean;
}

export function documentVariable(name: string, schema: z.ZodType): VariableDoc {
  const meta = metaOf(schema);
  if (!meta?.description) throw new Error(`Environment variable ${name} has no description`);
  let def: string | undefined;
  if (meta.defaultLabel !== undefined) {
    def = meta.defaultLabel;
  } else if (schema instanceof z.ZodDefault) {
    const value = (schema.def as { defaultValue: unknown }).defaultValue;
    def = Array.isArray(value) ? value.join(",") : String(value);
  }
  return {
    name,
    description: meta.description,
    default: def,
    example: meta.example,
    secret: meta.secret ?? false,
  };
}
