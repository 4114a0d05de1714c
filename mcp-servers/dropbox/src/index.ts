export { dropboxTarget } from "./target.js";
