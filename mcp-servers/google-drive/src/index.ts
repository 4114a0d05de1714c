export { googleDriveTarget } from "./target.js";
