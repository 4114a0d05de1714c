export { authServiceTarget, minimumSecretLength } from "./target.js";
