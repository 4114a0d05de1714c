import type { Logger } from "@conhub/utils";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { FsToolError } from "../errors.js";

/** A successful result: text for the model, plus structured content for tools that declare an output schema. */
export function ok(text: string, structured?: Record<string, unknown>): CallToolResult {
  return structured === undefined
    ? { content: [{ type: "text", text }] }
    : { content: [{ type: "text", text }], structuredContent: structured };
}

export function fail(message: string): CallToolResult {
  return { content: [{ type: "text", text: message }], isError: true };
}

/**
 * Wraps a tool body: refusals become `isError` results with their sentence;
 * anything unexpected is logged (to stderr) and reported without a stack.
 */
export function guarded<A>(
  tool: string,
  logger: Logger,
  body: (args: A) => Promise<CallToolResult>,
): (args: A) => Promise<CallToolResult> {
  return async (args: A) => {
    try {
      return await body(args);
    } catch (err) {
      if (err instanceof FsToolError) return fail(`${tool}: ${err.message}`);
      logger.error({ err, tool }, "filesystem tool failed");
      return fail(`${tool} failed unexpectedly on the server; try again or use another path.`);
    }
  };
}
