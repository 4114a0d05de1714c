export { securityServiceTarget } from "./target.js";
