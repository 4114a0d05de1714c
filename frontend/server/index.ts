export { collectPlatformStatus } from "./status.js";
export { dashboardDir, frontendTarget } from "./target.js";
