import type { OutgoingMail } from "./mailer.js";

/** The mails ConHub sends. Each carries the token for API users and a link for browsers. */
export const mails = {
  verifyEmail(to: string, publicUrl: string, token: string): OutgoingMail {
    return {
      to,
      purpose: "verify_email",
      subject: "Confirm your email address for ConHub",
      text: [
        "Welcome to ConHub.",
        "",
        "Confirm this address by opening:",
        `${publicUrl}/verify-email?token=${encodeURIComponent(token)}`,
        "",
        `or with the API: POST ${publicUrl}/api/auth/verify-email {"token":"${token}"}`,
        "",
        "The link works once and expires in 48 hours. If you did not create an account, ignore this mail.",
      ].join("\n"),
    };
  },
  registrationAttempt(to: string, publicUrl: string): OutgoingMail {
    return {
      to,
      purpose: "registration_attempt",
      subject: "Someone tried to create a ConHub account with your address",
      text: [
        "Someone (perhaps you) tried to create a ConHub account with this address, which already has one.",
        "",
        `If you forgot your password, reset it: ${publicUrl}/forgot-password`,
        "If it was not you, you can ignore this mail.",
      ].join("\n"),
    };
  },
  resetPassword(to: string, publicUrl: string, token: string): OutgoingMail {
    return {
      to,
      purpose: "reset_password",
      subject: "Reset your ConHub password",
      text: [
        "Someone (hopefully you) asked to reset the password of your ConHub account.",
        "",
        `${publicUrl}/reset-password?token=${encodeURIComponent(token)}`,
        "",
        `or with the API: POST ${publicUrl}/api/auth/reset-password {"token":"${token}","password":"…"}`,
        "",
        "The link works once and expires in one hour. Resetting signs you out everywhere.",
        "If you did not ask for this, ignore this mail: your password is unchanged.",
      ].join("\n"),
    };
  },
  invitation(
    to: string,
    publicUrl: string,
    organization: string,
    inviter: string,
    token: string,
  ): OutgoingMail {
    return {
      to,
      purpose: "invitation",
      subject: `You are invited to ${organization} on ConHub`,
      text: [
        `${inviter} invited you to join the organization "${organization}" on ConHub.`,
        "",
        `${publicUrl}/invitations/accept?token=${encodeURIComponent(token)}`,
        "",
        `or with the API, signed in as ${to}: POST ${publicUrl}/api/auth/orgs/invitations/accept {"token":"${token}"}`,
        "",
        "The invitation works once and expires in 7 days.",
      ].join("\n"),
    };
  },
};
