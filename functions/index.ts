// The Azure Functions entry point (package.json "main"): registers every definition with the Functions host.
// Everything else imports ./definitions, which has no side effects (in a plain Node process @azure/functions is in
// test mode and would only print a warning per registration).
import { definitions, registerDefinition } from "./definitions";

export * from "./definitions";

for (const definition of definitions) registerDefinition(definition);
