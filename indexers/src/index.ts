export { indexerTarget } from "./target.js";
