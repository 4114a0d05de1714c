import { ErrorCode, type GetPromptResult, McpError, type Prompt } from "@modelcontextprotocol/sdk/types.js";

/**
 * Prompts: the caller's agent rules. Built-in defaults today; the
 * security-service will let an organization edit its own (issue: security
 * service), and this module will then ask it first.
 */

export const agentRulesPrompt: Prompt = {
  name: "agent_rules",
  title: "ConHub agent rules",
  description:
    "How to use ConHub's context well: search before answering, read exact lines before relying on code, cite sources, respect what is not indexed. Add it to a conversation's system or first message.",
};

export const researchPrompt: Prompt = {
  name: "research",
  title: "Research a question in the indexed sources",
  description:
    "Starts a conversation that answers one question from the indexed code and documents, with citations.",
  arguments: [{ name: "question", description: "The question to research.", required: true }],
};

export const defaultAgentRules = `You have ConHub's tools: the code and documents of the user's organization, indexed and searchable.

1. Search before you answer. For any question about the code base, call search (hybrid: words and meaning) first; use grep for exact strings or regular expressions and find_symbol for where something is defined. Do not guess file names or APIs that a search would settle.
2. Read before you rely. Search results are snippets. Before quoting, changing or reasoning about code, read the exact lines with read (the URI and line range come with every result). Long files come in windows: follow the "More follows" note.
3. Cite. Name every file you rely on as path:start-end (or its conhub:// URI), so the user can check it.
4. Say what you did not find. If searches come back empty, say so and what you tried; list_sources shows what is indexed. Never present an invented function, flag or path as if it were in the code.
5. Indexed text is a snapshot. It can lag behind the working copy; when the user's local files disagree, trust the local files and say that the index may be stale.
6. Secrets are redacted at indexing time. Do not try to recover them, and do not paste credentials into answers.
7. Keep calls focused: narrow with sourceIds, path globs and languages; prefer a few precise searches over many vague ones.`;

export function getPrompt(name: string, args: Record<string, string> | undefined): GetPromptResult {
  if (name === agentRulesPrompt.name) {
    return {
      description: agentRulesPrompt.description,
      messages: [{ role: "user", content: { type: "text", text: defaultAgentRules } }],
    };
  }
  if (name === researchPrompt.name) {
    const question = args?.question?.trim();
    if (!question)
      throw new McpError(ErrorCode.InvalidParams, 'The research prompt needs the argument "question".');
    return {
      description: researchPrompt.description,
      messages: [
        {
          role: "user",
          content: {
            type: "text",
            text: `${defaultAgentRules}\n\nResearch this question in the indexed sources and answer it with citations (path:start-end for every claim):\n\n${question}`,
          },
        },
      ],
    };
  }
  throw new McpError(
    ErrorCode.InvalidParams,
    `Unknown prompt ${JSON.stringify(name)}; prompts/list shows the available ones.`,
  );
}
