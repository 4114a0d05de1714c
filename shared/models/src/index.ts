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
