import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";

export const refreshCookieName = "conhub_refresh";
const cookiePath = "/api/auth";

function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";
}

/** The refresh token as an httpOnly, SameSite=Strict cookie sent only to `/api/auth` (Secure over https). */
export function setRefreshCookie(c: Context, token: string, maxAgeMs: number): void {
  setCookie(c, refreshCookieName, token, {
    httpOnly: true,
    secure: isHttps(c),
    sameSite: "Strict",
    path: cookiePath,
    maxAge: Math.floor(maxAgeMs / 1000),
  });
}

export function clearRefreshCookie(c: Context): void {
  deleteCookie(c, refreshCookieName, {
    path: cookiePath,
    secure: isHttps(c),
    httpOnly: true,
    sameSite: "Strict",
  });
}

export function refreshCookie(c: Context): string | undefined {
  return getCookie(c, refreshCookieName);
}
