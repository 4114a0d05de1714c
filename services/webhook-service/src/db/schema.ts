/** The webhook service's inbound tables (the outbound part declares its own). */
export interface DeliveriesTable {
  id: string;
  provider: string;
  event: string;
  /** The provider's delivery id as received (also on unverified deliveries). */
  delivery_id: string | null;
  /** `<source or provider>:<delivery id>` of a verified delivery; unique, so a replay finds the first one. */
  dedupe_key: string | null;
  source_id: string | null;
  organization_id: string | null;
  received_at: string;
  /** 1 when the signature checked out, 0 otherwise. */
  verified: number;
  verify_reason: string | null;
  /** received → queued → processed | ignored | failed; `rejected` for unverified ones. */
  status: string;
  status_message: string | null;
  /** JSON: what the payload says (branch, commits, paths count), once parsed. */
  summary: string | null;
  /** The verified raw body (UTF-8), kept for redelivery; never stored for unverified ones. */
  body: string | null;
  attempts: number;
  latency_ms: number | null;
  processed_at: string | null;
}

export interface WebhookInboundDatabase {
  webhook_deliveries: DeliveriesTable;
}
