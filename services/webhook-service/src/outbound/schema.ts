/**
 * The outbound part's tables (in the webhook service's own store, beside the
 * inbound delivery log). Times are ISO 8601 text; lists are JSON text.
 */

export interface OutboundEndpointsTable {
  id: string;
  organization_id: string;
  url: string;
  description: string | null;
  /** JSON array of event types. */
  events: string;
  /** The signing secret (`whsec_…`) sealed with the webhook service's secret box, bound to the endpoint id. */
  secret: string;
  /** The secret before the last rotation (sealed like `secret`), still signing until `previous_secret_expires_at`. */
  previous_secret: string | null;
  previous_secret_expires_at: string | null;
  /** 1 or 0. */
  enabled: number;
  disabled_at: string | null;
  disabled_reason: string | null;
  /** Deliveries in a row that failed every attempt (reset by a success or re-enabling). */
  failed_deliveries: number;
  /** The first failed attempt since the last success (null while deliveries succeed). */
  failing_since: string | null;
  last_success_at: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}

/** An event as it is delivered: the exact body, the same for every endpoint and attempt. */
export interface OutboundMessagesTable {
  /** The event id (`evt_…`): the `webhook-id` header. */
  id: string;
  organization_id: string;
  type: string;
  /** The JSON body sent: `{"type","timestamp","data"}`. */
  body: string;
  created_at: string;
}

/** One message to one endpoint, with its retries. */
export interface OutboundDeliveriesTable {
  id: string;
  message_id: string;
  endpoint_id: string;
  organization_id: string;
  /** pending | succeeded | failed | cancelled */
  state: string;
  attempts: number;
  next_attempt_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface OutboundAttemptsTable {
  id: string;
  delivery_id: string;
  endpoint_id: string;
  organization_id: string;
  message_id: string;
  event_type: string;
  /** 1 for the first try. */
  attempt: number;
  /** succeeded | failed */
  status: string;
  status_code: number | null;
  error: string | null;
  /** The start of the receiver's answer (at most 1 KiB), for debugging. */
  response: string | null;
  duration_ms: number;
  /** When the next try is due (null after a success or the last try). */
  next_retry_at: string | null;
  created_at: string;
}

export interface OutboundDatabase {
  outbound_endpoints: OutboundEndpointsTable;
  outbound_messages: OutboundMessagesTable;
  outbound_deliveries: OutboundDeliveriesTable;
  outbound_attempts: OutboundAttemptsTable;
}
