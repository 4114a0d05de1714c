export { billingServiceTarget } from "./target.js";
