import type { Logger } from "@conhub/utils";
import type { CallToolResult, Tool, ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { BackendError, type ContextBackend } from "../backend/port.js";

export interface ToolContext {
  backend: ContextBackend;
  logger: Logger;
  signal: AbortSignal;
}

/** A refusal the model can act on: its message becomes the tool result (`isError: true`). */
export class ToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ToolError";
  }
}

/** One of ConHub's own tools: its schema (validated here), how it is listed, what it does. */
export interface ContextTool {
  definition: Tool;
  call(args: unknown, ctx: ToolContext): Promise<CallToolResult>;
}

export const readOnlyIndex: ToolAnnotations = {
  readOnlyHint: true,
  idempotentHint: true,
  openWorldHint: false,
};

export function ok(text: string, structured?: Record<string, unknown>): CallToolResult {
  return structured === undefined
    ? { content: [{ type: "text", text }] }
    : { content: [{ type: "text", text }], structuredContent: structured };
}

export function fail(message: string): CallToolResult {
  return { content: [{ type: "text", text: message }], isError: true };
}

/** zod issues as one line per field, the way a model can fix its call. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length > 0 ? issue.path.join(".") : "arguments";
      return `${where}: ${issue.message}`;
    })
    .join("; ");
}

/**
 * Defines a tool: the JSON schema listed to clients is generated once from
 * the zod schema that validates calls (stateless HTTP builds a server per
 * request, so nothing per-request is spent on schemas). Invalid arguments,
 * refusals (`ToolError`) and backend failures come back as `isError`
 * results; anything unexpected is logged and reported without details.
 */
export function defineTool<S extends z.ZodType>(spec: {
  name: string;
  title: string;
  description: string;
  input: S;
  annotations?: ToolAnnotations;
  run(args: z.output<S>, ctx: ToolContext): Promise<CallToolResult>;
}): ContextTool {
  const inputSchema = z.toJSONSchema(spec.input, { target: "draft-7", io: "input" }) as Tool["inputSchema"];
  delete (inputSchema as Record<string, unknown>).$schema;
  const definition: Tool = {
    name: spec.name,
    title: spec.title,
    description: spec.description,
    inputSchema,
    annotations: { title: spec.title, ...(spec.annotations ?? readOnlyIndex) },
  };
  return {
    definition,
    async call(args, ctx) {
      const parsed = spec.input.safeParse(args ?? {});
      if (!parsed.success) {
        return fail(
          `Invalid arguments for ${spec.name}: ${describeIssues(parsed.error)}. See the tool's input schema.`,
        );
      }
      try {
        return await spec.run(parsed.data, ctx);
      } catch (err) {
        if (err instanceof ToolError) return fail(`${spec.name}: ${err.message}`);
        if (err instanceof BackendError) return fail(`${spec.name}: ${err.message}`);
        if (ctx.signal.aborted) return fail(`${spec.name} was cancelled.`);
        ctx.logger.error({ err, tool: spec.name }, "MCP tool failed");
        return fail(
          `${spec.name} failed unexpectedly on the server (it has been logged); try again, or try another tool.`,
        );
      }
    },
  };
}
