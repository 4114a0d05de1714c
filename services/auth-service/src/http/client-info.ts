import type { Context } from "hono";

export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

/**
 * Who is on the other end, for rate limits and audit. The IP is `X-Real-IP`,
 * which nginx overwrites with the peer address (a client cannot choose it
 * behind nginx); else the first `X-Forwarded-For` hop. Without a proxy these
 * headers are the client's word: the per-account limit and lockout still hold.
 */
export function clientInfo(c: Context): ClientInfo {
  const realIp = c.req.header("x-real-ip")?.trim();
  const forwarded = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
  const ip = (realIp || forwarded || "").slice(0, 64) || null;
  const userAgent = c.req.header("user-agent")?.slice(0, 512) ?? null;
  return { ip, userAgent };
}
