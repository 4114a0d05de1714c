export { dataServiceTarget } from "./target.js";
