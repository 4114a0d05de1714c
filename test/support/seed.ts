/** The seed's "Verify All Services" URLs on the gateway, plus every other prefix of the route table. */
export const gatewayHealthPaths = [
  "/health",
  "/api/auth/health",
  "/api/billing/health",
  "/api/ai/health",
  "/api/data/health",
  "/api/security/health",
  "/api/webhooks/health",
  "/indexer/health",
  "/mcp/health",
] as const;
