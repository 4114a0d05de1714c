import { AppError, fieldProblems } from "@conhub/utils";
import { validator } from "hono/validator";
import type { z } from "zod";

/**
 * Route-declaration validators. A body that is not JSON is a 400; a body that
 * is JSON but breaks the schema is a 422; bad query or path parameters are a
 * 400. Every problem names its field (`body.email`, `query.limit`).
 * Use `z.strictObject` so unknown fields are refused, not ignored.
 */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return validator("json", (value): z.output<T> => {
    const result = schema.safeParse(value);
    if (!result.success) {
      throw new AppError("unprocessable", "The request body does not match the expected shape.", {
        fields: fieldProblems("body", result.error.issues),
      });
    }
    return result.data;
  });
}

export function queryParams<T extends z.ZodType>(schema: T) {
  return validator("query", (value): z.output<T> => {
    const result = schema.safeParse(value);
    if (!result.success) {
      throw new AppError("invalid", "The query parameters are invalid.", {
        fields: fieldProblems("query", result.error.issues),
      });
    }
    return result.data;
  });
}

export function pathParams<T extends z.ZodType>(schema: T) {
  return validator("param", (value): z.output<T> => {
    const result = schema.safeParse(value);
    if (!result.success) {
      throw new AppError("invalid", "The path parameters are invalid.", {
        fields: fieldProblems("path", result.error.issues),
      });
    }
    return result.data;
  });
}
