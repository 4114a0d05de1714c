import { randomUUID } from "node:crypto";
import type { Logger } from "@conhub/utils";
import type { Kysely } from "kysely";
import nodemailer from "nodemailer";
import type { BackgroundTasks } from "../background.js";
import type { AuthDatabase } from "../db/schema.js";

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  /** What the mail is for (`verify_email`, `reset_password`, `invitation`…), for the outbox. */
  purpose: string;
}

export interface Mailer {
  /**
   * Stores the mail in the outbox (durably, before anything else) and, when
   * SMTP is configured, delivers it in the background: on success the body is
   * cleared (it may hold a single-use link), on failure the mail stays with
   * the error. Never drops a mail.
   */
  send(mail: OutgoingMail): Promise<string>;
}

export interface MailerOptions {
  db: Kysely<AuthDatabase>;
  smtpUrl: string | undefined;
  from: string;
  logger: Logger;
  background: BackgroundTasks;
  now: () => Date;
}

/** SMTP error text without credentials (nodemailer may echo the connection URL). */
function safeError(err: unknown, smtpUrl: string): string {
  let message = err instanceof Error ? err.message : String(err);
  try {
    const url = new URL(smtpUrl);
    if (url.password) message = message.replaceAll(decodeURIComponent(url.password), "***");
  } catch {
    // unparseable URLs are refused by the config schema
  }
  return message.slice(0, 500);
}

export function createMailer(options: MailerOptions): Mailer {
  const { db, smtpUrl, logger, background, now } = options;
  const transport = smtpUrl ? nodemailer.createTransport(smtpUrl) : undefined;

  async function deliver(id: string, mail: OutgoingMail): Promise<void> {
    if (!transport || !smtpUrl) return;
    try {
      await transport.sendMail({ from: options.from, to: mail.to, subject: mail.subject, text: mail.text });
      await db
        .updateTable("mail_outbox")
        .set({ status: "sent", body: null, error: null, sent_at: now().toISOString(), attempts: 1 })
        .where("id", "=", id)
        .execute();
    } catch (err) {
      const error = safeError(err, smtpUrl);
      logger.warn(
        { mailId: id, purpose: mail.purpose, error },
        "SMTP delivery failed; the mail stays in the outbox",
      );
      await db
        .updateTable("mail_outbox")
        .set({ status: "failed", error, attempts: 1 })
        .where("id", "=", id)
        .execute();
    }
  }

  return {
    async send(mail) {
      const id = randomUUID();
      await db
        .insertInto("mail_outbox")
        .values({
          id,
          recipient: mail.to,
          subject: mail.subject,
          body: mail.text,
          purpose: mail.purpose,
          status: transport ? "sending" : "stored",
          error: null,
          attempts: 0,
          created_at: now().toISOString(),
          sent_at: null,
        })
        .execute();
      if (transport) background.run("mail", () => deliver(id, mail));
      return id;
    },
  };
}
