/** Server-rendered pages of the authorization endpoint: no scripts, everything escaped. */

const entities: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => entities[ch]!);
}

/**
 * Headers of every page: nothing but inline styles may load, the page cannot
 * be framed (clickjacking), forms post only to this origin — and to the
 * client's redirect origin, which the 303 after a successful POST goes to
 * (browsers apply form-action to that redirect) — and nothing is cached.
 */
export function pageHeaders(redirectOrigin?: string): Record<string, string> {
  const formAction = redirectOrigin ? `'self' ${redirectOrigin}` : "'self'";
  return {
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": `default-src 'none'; style-src 'unsafe-inline'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
    "x-frame-options": "DENY",
    "cache-control": "no-store",
    pragma: "no-cache",
    "referrer-policy": "no-referrer",
  };
}

const style = `body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#222}
h1{font-size:1.3rem}label{display:block;margin:.8rem 0 .2rem}input[type=email],input[type=password],select{width:100%;padding:.4rem;box-sizing:border-box}
fieldset{margin:1rem 0;border:1px solid #ccc}button{margin-top:1rem;padding:.5rem 1.2rem}.error{color:#a00;border:1px solid #a00;padding:.5rem}.muted{color:#666;font-size:.9rem}`;

export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title><style>${style}</style></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

/** A page for errors that cannot go back to the client (unknown client, redirect URI not registered…). */
export function errorPage(message: string): string {
  return page(
    "Sign-in request refused",
    `<p class="error" role="alert">${escapeHtml(message)}</p><p class="muted">Nothing was sent to the application. Start the connection again from the application.</p>`,
  );
}

export function hiddenFields(fields: Record<string, string | undefined>): string {
  return Object.entries(fields)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join("");
}

export interface ScopeChoice {
  scope: string;
  description: string;
  checked: boolean;
}

function scopeList(scopes: ScopeChoice[]): string {
  return `<fieldset><legend>Allow it to</legend>${scopes
    .map(
      (s) =>
        `<label><input type="checkbox" name="approve_scope" value="${escapeHtml(s.scope)}"${s.checked ? " checked" : ""}> ${escapeHtml(s.description)} <span class="muted">(${escapeHtml(s.scope)})</span></label>`,
    )
    .join("")}</fieldset>`;
}

export interface SignInPageOptions {
  action: string;
  clientName: string;
  redirectHost: string;
  hidden: Record<string, string | undefined>;
  scopes: ScopeChoice[];
  error?: string;
  email?: string;
  /** Already signed in to ConHub in this browser (session cookie): no password asked. */
  signedInAs?: string;
}

/** Step 1: who the client is, what it asks for, and email and password (unless already signed in). */
export function signInPage(o: SignInPageOptions): string {
  const who = o.signedInAs
    ? `<p>Signed in as <strong>${escapeHtml(o.signedInAs)}</strong>.</p><input type="hidden" name="session" value="1">`
    : `<label for="email">Email</label><input id="email" type="email" name="email" autocomplete="username" required value="${escapeHtml(o.email ?? "")}">
<label for="password">Password</label><input id="password" type="password" name="password" autocomplete="current-password" required>`;
  return page(
    o.signedInAs ? `Connect ${o.clientName}` : `Sign in to connect ${o.clientName}`,
    `${o.error ? `<p class="error" role="alert">${escapeHtml(o.error)}</p>` : ""}<p><strong>${escapeHtml(o.clientName)}</strong> wants to use your ConHub data. After you approve, you are sent back to <strong>${escapeHtml(o.redirectHost)}</strong>.</p>
<form method="post" action="${escapeHtml(o.action)}">${hiddenFields(o.hidden)}
${who}
${scopeList(o.scopes)}
<button type="submit" name="decision" value="approve">${o.signedInAs ? "Allow" : "Sign in and allow"}</button> <button type="submit" name="decision" value="deny" formnovalidate>Deny</button>
</form>`,
  );
}

export interface OrganizationPageOptions {
  action: string;
  clientName: string;
  hidden: Record<string, string | undefined>;
  /** The scopes approved on the first page, carried along. */
  approved: string[];
  organizations: Array<{ id: string; name: string; role: string }>;
}

/** Step 2 (several memberships): which organization the client acts for. */
export function organizationPage(o: OrganizationPageOptions): string {
  return page(
    `Choose an organization for ${o.clientName}`,
    `<form method="post" action="${escapeHtml(o.action)}">${hiddenFields(o.hidden)}${o.approved
      .map((s) => `<input type="hidden" name="approve_scope" value="${escapeHtml(s)}">`)
      .join("")}
<label for="organization">Organization</label><select id="organization" name="organization">${o.organizations
      .map(
        (org) =>
          `<option value="${escapeHtml(org.id)}">${escapeHtml(org.name)} (${escapeHtml(org.role)})</option>`,
      )
      .join("")}</select>
<button type="submit" name="decision" value="approve">Allow</button> <button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}
