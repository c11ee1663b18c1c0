// The Azure Functions entry point (package.json "main"): registers every definition with the Functions host.
// Everything else imports ./functionList (the list) or ./definitions (the types), which have no side effects (in a
// plain Node process @azure/functions is in test mode and would only print a warning per registration).
import { definitions, registerDefinition } from "./functionList";

export * from "./definitions";
export * from "./functionList";

for (const definition of definitions) registerDefinition(definition);
