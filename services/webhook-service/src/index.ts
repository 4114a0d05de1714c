export { webhookServiceTarget } from "./target.js";
