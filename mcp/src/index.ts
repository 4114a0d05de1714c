export { mcpServiceTarget } from "./target.js";
