import { updateDocs } from "../cli/src/docs.js";

await updateDocs();
console.error("Updated README.md (configuration table) and .env.example");
