export {
  handleStatelessRequest,
  jsonContentType,
  rpcError,
  statelessMethodNotAllowed,
} from "./http.js";
export { type ConnectableServer, type RunningStdioServer, type StdioOptions, serveStdio } from "./stdio.js";
