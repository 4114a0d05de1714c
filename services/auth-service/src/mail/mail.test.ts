import { createServer, type Server } from "node:net";
import { describe, expect, it, onTestFinished } from "vitest";
import { latestMail, reachableAuthAdapters, signUp, startAuth, tokenIn } from "../testing/harness.js";

/** A minimal SMTP server (RFC 5321's happy path): enough for nodemailer to deliver, recording what it received. */
async function smtpServer(): Promise<{ url: string; received: string[] }> {
  const received: string[] = [];
  const server: Server = createServer((socket) => {
    let buffer = "";
    let inData = false;
    socket.write("220 test ESMTP\r\n");
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8");
      for (;;) {
        if (inData) {
          const end = buffer.indexOf("\r\n.\r\n");
          if (end < 0) return;
          received.push(buffer.slice(0, end));
          buffer = buffer.slice(end + 5);
          inData = false;
          socket.write("250 OK queued\r\n");
          continue;
        }
        const nl = buffer.indexOf("\r\n");
        if (nl < 0) return;
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === "EHLO" || verb === "HELO") socket.write("250-test\r\n250 8BITMIME\r\n");
        else if (verb === "DATA") {
          inData = true;
          socket.write("354 go ahead\r\n");
        } else if (verb === "QUIT") socket.end("221 bye\r\n");
        else socket.write("250 OK\r\n");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address() as { port: number };
  return { url: `smtp://127.0.0.1:${address.port}`, received };
}

/** A port where nothing listens. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.each(reachableAuthAdapters())("mail on $name", (adapters) => {
  it("without SMTP, mails stay in the outbox, readable by platform admins only", async () => {
    const h = await startAuth(adapters, { CONHUB_ADMIN_EMAILS: "root@example.com" });
    const admin = await signUp(h, "root@example.com");
    const user = await signUp(h, "user@example.com");
    const outbox = await h.call("GET", "/api/auth/admin/outbox?to=user@example.com", {
      token: admin.accessToken,
    });
    expect(outbox.status).toBe(200);
    const { mails } = (await outbox.json()) as {
      mails: Array<{ to: string; purpose: string; status: string; body: string }>;
    };
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ to: "user@example.com", purpose: "verify_email", status: "stored" });
    expect(tokenIn(mails[0]!.body)).toMatch(/\./);
    // Not an admin: the route does not exist for them.
    expect((await h.call("GET", "/api/auth/admin/outbox", { token: user.accessToken })).status).toBe(404);
    expect((await h.call("GET", "/api/auth/admin/outbox")).status).toBe(401);
  });

  it("delivers through SMTP and clears the body; a failure keeps the mail with its error", async () => {
    const smtp = await smtpServer();
    const h = await startAuth(adapters, { SMTP_URL: smtp.url, MAIL_FROM: "ConHub <auth@example.com>" });
    await signUp(h, "mailme@example.com");
    const sent = await latestMail(h, "mailme@example.com", "verify_email");
    expect(sent.status).toBe("sent");
    expect(sent.body).toBeNull();
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]).toContain("Subject: Confirm your email address for ConHub");
    expect(smtp.received[0]).toContain("auth@example.com");

    const down = await startAuth(adapters, {
      SMTP_URL: `smtp://user:hunter2secret@127.0.0.1:${await deadPort()}`,
    });
    await signUp(down, "lost@example.com");
    const failed = await latestMail(down, "lost@example.com", "verify_email");
    expect(failed.status).toBe("failed");
    expect(failed.error).toBeTruthy();
    expect(failed.error).not.toContain("hunter2secret");
    expect(tokenIn(failed.body)).toMatch(/\./);
  });
});
