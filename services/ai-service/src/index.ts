export { aiServiceTarget } from "./target.js";
