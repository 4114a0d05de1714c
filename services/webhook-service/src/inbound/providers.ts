import {
  type HeaderReader,
  type Verification,
  verifyBitbucket,
  verifyDropbox,
  verifyGdrive,
  verifyGithub,
  verifyGitlab,
} from "./verify.js";

export const sourceProviders = ["github", "gitlab", "bitbucket", "dropbox", "gdrive"] as const;
export type SourceProvider = (typeof sourceProviders)[number];

/** How a provider that delivers to one source signs, names and identifies its deliveries. */
export interface ProviderSpec {
  /** The source types whose deliveries this provider may send. */
  sourceTypes: readonly string[];
  verify(headers: HeaderReader, body: Uint8Array, secret: string): Verification;
  /** The event name the provider gives. */
  event(headers: HeaderReader): string;
  /** The provider's id of this delivery (replays carry the same), when it gives one. */
  deliveryId(headers: HeaderReader): string | undefined;
  /** Whether the body must be JSON. */
  json: boolean;
}

const header = (headers: HeaderReader, name: string) => {
  const v = headers.get(name)?.trim();
  return v ? v.slice(0, 200) : undefined;
};

export const providerSpecs: Record<SourceProvider, ProviderSpec> = {
  github: {
    sourceTypes: ["git"],
    verify: verifyGithub,
    event: (h) => header(h, "x-github-event") ?? "unknown",
    deliveryId: (h) => header(h, "x-github-delivery"),
    json: true,
  },
  gitlab: {
    sourceTypes: ["git"],
    verify: verifyGitlab,
    event: (h) => header(h, "x-gitlab-event") ?? "unknown",
    deliveryId: (h) => header(h, "x-gitlab-event-uuid"),
    json: true,
  },
  bitbucket: {
    sourceTypes: ["git"],
    verify: verifyBitbucket,
    event: (h) => header(h, "x-event-key") ?? "unknown",
    deliveryId: (h) => header(h, "x-request-uuid"),
    json: true,
  },
  // Dropbox notifications carry no id: each one only says "something changed", so a replay is harmless.
  dropbox: {
    sourceTypes: ["dropbox"],
    verify: verifyDropbox,
    event: () => "notification",
    deliveryId: () => undefined,
    json: true,
  },
  // Drive numbers the messages of a channel: channel id + message number identify one.
  gdrive: {
    sourceTypes: ["google-drive", "gdrive"],
    verify: verifyGdrive,
    event: (h) => header(h, "x-goog-resource-state") ?? "unknown",
    deliveryId: (h) => {
      const channel = header(h, "x-goog-channel-id");
      const number = header(h, "x-goog-message-number");
      return channel && number ? `${channel}:${number}` : undefined;
    },
    json: false,
  },
};
