export { filesystemTarget } from "./target.js";
