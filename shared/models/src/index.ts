export {
  CONHUB_EVENTS_TOPIC,
  ConhubEvent,
  type ConhubEventType,
  conhubEventTypes,
  type WebhookEventType,
  webhookEventTypes,
} from "./events.js";
export {
  Capabilities,
  DependencyStatus,
  HealthResponse,
  PlatformStatus,
  ReadyResponse,
  ServiceInfo,
  TargetStatus,
} from "./health.js";
export { Problem } from "./problem.js";
