import { z } from "zod";
import { passwordMaxLength } from "./passwords.js";

export const Email = z.email("must be an email address").max(254, "must be at most 254 characters");
/** Length and policy are checked after parsing (the policy needs the email); here only the type and a hard cap. */
export const Password = z
  .string()
  .min(1, "is required")
  .max(passwordMaxLength, `must be at most ${passwordMaxLength} characters`);
export const DisplayName = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(100, "must be at most 100 characters");
export const OpaqueTokenInput = z.string().min(1, "is required").max(200, "is too long");

export const RegisterBody = z.strictObject({
  email: Email,
  password: Password,
  name: DisplayName.optional(),
});
export const LoginBody = z.strictObject({ email: Email, password: Password });
export const RefreshBody = z.strictObject({ refreshToken: OpaqueTokenInput.optional() });
export const ProfileBody = z.strictObject({ name: DisplayName.nullable().optional() });
export const TokenBody = z.strictObject({ token: OpaqueTokenInput });
export const ForgotPasswordBody = z.strictObject({ email: Email });
export const ResetPasswordBody = z.strictObject({ token: OpaqueTokenInput, password: Password });
export const ChangePasswordBody = z.strictObject({ currentPassword: Password, newPassword: Password });
