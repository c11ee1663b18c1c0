// A small evaluator of ARM template expressions ("[fn(...)]"), enough to walk the template the real Bicep compiler
// produces for infra/main.bicep with given parameters: which nested deployments and role assignments exist, which
// role definition each assignment names, for which principal, at which scope. Values only known at deployment time
// (module outputs through reference()) stay symbolic ("ref:functionApp.outputs.principalId.value"). A function it
// does not know throws, so a template change it cannot follow fails the roles test loudly instead of passing.
import { createHash } from "node:crypto";

type Value = unknown;

type Node =
  | { kind: "string"; value: string }
  | { kind: "number"; value: number }
  | { kind: "call"; name: string; args: Node[] }
  | { kind: "member"; target: Node; property: string }
  | { kind: "index"; target: Node; index: Node };

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] ?? "";
    if (/\s/.test(ch)) {
      i += 1;
    } else if (ch === "'") {
      let j = i + 1;
      let s = "";
      for (;;) {
        if (j >= text.length) throw new Error(`unterminated string in ${text}`);
        if (text[j] === "'" && text[j + 1] === "'") {
          s += "'";
          j += 2;
        } else if (text[j] === "'") break;
        else {
          s += text[j];
          j += 1;
        }
      }
      tokens.push(`'${s}`);
      i = j + 1;
    } else if ("(),.[]".includes(ch)) {
      tokens.push(ch);
      i += 1;
    } else {
      const m = /^[A-Za-z0-9_$#-]+/.exec(text.slice(i));
      if (m === null) throw new Error(`unexpected ${ch} in ${text}`);
      tokens.push(m[0]);
      i += m[0].length;
    }
  }
  return tokens;
}

export function parseExpression(text: string): Node {
  const tokens = tokenize(text);
  let pos = 0;
  const next = (): string => {
    const t = tokens[pos];
    if (t === undefined) throw new Error(`unexpected end of ${text}`);
    pos += 1;
    return t;
  };
  const expect = (t: string): void => {
    const got = next();
    if (got !== t) throw new Error(`expected ${t}, got ${got} in ${text}`);
  };
  const primary = (): Node => {
    const t = next();
    let node: Node;
    if (t.startsWith("'")) node = { kind: "string", value: t.slice(1) };
    else if (/^-?\d+$/.test(t)) node = { kind: "number", value: Number(t) };
    else {
      expect("(");
      const args: Node[] = [];
      if (tokens[pos] !== ")") {
        for (;;) {
          args.push(primary());
          if (tokens[pos] === ",") pos += 1;
          else break;
        }
      }
      expect(")");
      node = { kind: "call", name: t.toLowerCase(), args };
    }
    for (;;) {
      if (tokens[pos] === ".") {
        pos += 1;
        node = { kind: "member", target: node, property: next() };
      } else if (tokens[pos] === "[") {
        pos += 1;
        const index = primary();
        expect("]");
        node = { kind: "index", target: node, index };
      } else return node;
    }
  };
  const node = primary();
  if (pos !== tokens.length) throw new Error(`trailing tokens in ${text}`);
  return node;
}

/** Where a deployment runs: what subscription() and resourceGroup() return inside it. */
export interface DeploymentTarget {
  subscriptionId: string;
  resourceGroup?: string;
}

/** One template's evaluation scope: its parameters (lazy), variables (lazy), target and copy index. */
export class Scope {
  private readonly paramCache = new Map<string, Value>();
  private readonly varCache = new Map<string, Value>();

  constructor(
    private readonly template: {
      parameters?: Record<string, { defaultValue?: unknown }>;
      variables?: Record<string, unknown>;
    },
    /** Parameter values: a plain value, or a thunk that evaluates the caller's expression in the caller's scope. */
    private readonly args: Record<string, () => Value>,
    readonly target: DeploymentTarget,
    readonly copyIndex?: number,
  ) {}

  parameter(name: string): Value {
    if (!this.paramCache.has(name)) {
      const arg = this.args[name];
      let value: Value;
      if (arg !== undefined) value = arg();
      else if (this.template.parameters?.[name] !== undefined)
        value = this.evaluate(this.template.parameters[name]?.defaultValue);
      else throw new Error(`no parameter ${name}`);
      this.paramCache.set(name, value);
    }
    return this.paramCache.get(name);
  }

  variable(name: string): Value {
    if (!this.varCache.has(name)) {
      if (this.template.variables === undefined || !(name in this.template.variables))
        throw new Error(`no variable ${name}`);
      this.varCache.set(name, this.evaluate(this.template.variables[name]));
    }
    return this.varCache.get(name);
  }

  /** Deep-evaluates a template value: "[...]" strings are expressions ("[[" escapes a literal "["). */
  evaluate(value: Value, copyIndex = this.copyIndex): Value {
    if (typeof value === "string") {
      if (value.startsWith("[[")) return value.slice(1);
      if (value.startsWith("[") && value.endsWith("]"))
        return evalNode(parseExpression(value.slice(1, -1)), this, {}, copyIndex);
      return value;
    }
    if (Array.isArray(value)) return value.map((v) => this.evaluate(v, copyIndex));
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.evaluate(v, copyIndex)]));
    }
    return value;
  }
}

interface Lambda {
  lambda: { params: string[]; body: Node; locals: Record<string, Value> };
}
const isLambda = (v: Value): v is Lambda => typeof v === "object" && v !== null && "lambda" in v;

/** A GUID computed from the arguments (ARM's guid() is a v5-style hash; any deterministic function will do here). */
function fakeGuid(parts: string[]): string {
  const h = createHash("sha1").update(parts.join("\u0000")).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function isEmpty(v: Value): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === "string" || Array.isArray(v)) return v.length === 0;
  if (typeof v === "object") return Object.keys(v).length === 0;
  return false;
}

function evalNode(node: Node, scope: Scope, locals: Record<string, Value>, copyIndex: number | undefined): Value {
  const ev = (n: Node): Value => evalNode(n, scope, locals, copyIndex);
  switch (node.kind) {
    case "string":
      return node.value;
    case "number":
      return node.value;
    case "member": {
      const target = ev(node.target);
      if (typeof target === "string" && target.startsWith("ref:")) return `${target}.${node.property}`;
      if (target === null || typeof target !== "object") throw new Error(`.${node.property} of ${String(target)}`);
      return (target as Record<string, Value>)[node.property];
    }
    case "index": {
      const target = ev(node.target);
      const index = ev(node.index);
      if (Array.isArray(target) && typeof index === "number") return target[index];
      if (target !== null && typeof target === "object" && typeof index === "string")
        return (target as Record<string, Value>)[index];
      throw new Error(`cannot index ${JSON.stringify(target)} by ${String(index)}`);
    }
    case "call":
      break;
  }
  const args = node.args;
  const str = (n: Node): string => String(ev(n));
  switch (node.name) {
    case "parameters":
      return scope.parameter(str(args[0] as Node));
    case "variables":
      return scope.variable(str(args[0] as Node));
    case "true":
      return true;
    case "false":
      return false;
    case "if":
      return ev(args[0] as Node) === true ? ev(args[1] as Node) : ev(args[2] as Node);
    case "not":
      return ev(args[0] as Node) !== true;
    case "and":
      return args.every((a) => ev(a) === true);
    case "or":
      return args.some((a) => ev(a) === true);
    case "equals":
      return JSON.stringify(ev(args[0] as Node)) === JSON.stringify(ev(args[1] as Node));
    case "empty":
      return isEmpty(ev(args[0] as Node));
    case "length": {
      const v = ev(args[0] as Node);
      if (typeof v === "string" || Array.isArray(v)) return v.length;
      throw new Error(`length of ${JSON.stringify(v)}`);
    }
    case "contains": {
      const container = ev(args[0] as Node);
      const item = ev(args[1] as Node);
      if (Array.isArray(container)) return container.some((c) => JSON.stringify(c) === JSON.stringify(item));
      if (typeof container === "string") return container.includes(String(item));
      if (container !== null && typeof container === "object") return String(item) in container;
      throw new Error(`contains on ${JSON.stringify(container)}`);
    }
    case "createarray":
      return args.map(ev);
    case "createobject": {
      const out: Record<string, Value> = {};
      for (let i = 0; i + 1 < args.length; i += 2) out[str(args[i] as Node)] = ev(args[i + 1] as Node);
      return out;
    }
    case "union": {
      // Objects only (what infra/ unions: app settings); later arguments win, as ARM's union() does per key.
      const parts = args.map((a) => ev(a));
      if (!parts.every((p) => p !== null && typeof p === "object" && !Array.isArray(p)))
        throw new Error("union() of non-objects is not supported by test/unit/infra/armExpressions.ts");
      return Object.assign({}, ...(parts as Record<string, Value>[])) as Value;
    }
    case "concat": {
      const values = args.map(ev);
      if (values.every(Array.isArray)) return (values as Value[][]).flat();
      return values.map(String).join("");
    }
    case "format":
      return str(args[0] as Node).replace(/\{(\d+)\}/g, (_, i: string) => String(ev(args[Number(i) + 1] as Node)));
    case "string":
      return typeof ev(args[0] as Node) === "string" ? ev(args[0] as Node) : JSON.stringify(ev(args[0] as Node));
    case "tolower":
      return str(args[0] as Node).toLowerCase();
    case "uniquestring":
      return createHash("sha1").update(args.map(str).join("\u0000")).digest("hex").slice(0, 13);
    case "guid":
      return fakeGuid(args.map(str));
    case "copyindex": {
      if (copyIndex === undefined) throw new Error("copyIndex() outside a copy loop");
      const offset = args.map(ev).find((a) => typeof a === "number");
      return copyIndex + (typeof offset === "number" ? offset : 0);
    }
    case "subscription":
      return {
        id: `/subscriptions/${scope.target.subscriptionId}`,
        subscriptionId: scope.target.subscriptionId,
      };
    case "resourcegroup":
      if (scope.target.resourceGroup === undefined) throw new Error("resourceGroup() at subscription scope");
      return {
        id: `/subscriptions/${scope.target.subscriptionId}/resourceGroups/${scope.target.resourceGroup}`,
        name: scope.target.resourceGroup,
      };
    case "deployment":
      return { location: "deployment-location", name: "deployment" };
    case "reference":
      return `ref:${str(args[0] as Node)}`;
    case "subscriptionresourceid": {
      const parts = args.map(str);
      const [type, ...names] = /^[0-9a-f-]{36}$/i.test(parts[0] ?? "") && parts.length > 2 ? parts.slice(1) : parts;
      return `/subscriptions/${scope.target.subscriptionId}/providers/${type}/${names.join("/")}`;
    }
    case "resourceid": {
      const [type, ...names] = args.map(str);
      const segments = (type ?? "").split("/");
      const path = segments.slice(1).map((s, i) => `${s}/${names[i] ?? "?"}`);
      return `/subscriptions/${scope.target.subscriptionId}/resourceGroups/${scope.target.resourceGroup ?? "?"}/providers/${segments[0]}/${path.join("/")}`;
    }
    case "lambda": {
      const params = args.slice(0, -1).map(str);
      return { lambda: { params, body: args[args.length - 1] as Node, locals } } satisfies Lambda;
    }
    case "lambdavariables":
      return locals[str(args[0] as Node)];
    case "map":
    case "filter":
    case "reduce": {
      const items = ev(args[0] as Node);
      if (!Array.isArray(items)) throw new Error(`${node.name} over ${JSON.stringify(items)}`);
      const fn = ev(args[args.length - 1] as Node);
      if (!isLambda(fn)) throw new Error(`${node.name} without a lambda`);
      const call = (...values: Value[]): Value =>
        evalNode(
          fn.lambda.body,
          scope,
          { ...fn.lambda.locals, ...Object.fromEntries(fn.lambda.params.map((p, i) => [p, values[i]])) },
          copyIndex,
        );
      if (node.name === "map") return items.map((item, i) => call(item, i));
      if (node.name === "filter") return items.filter((item, i) => call(item, i) === true);
      return items.reduce((acc: Value, item, i) => call(acc, item, i), ev(args[1] as Node));
    }
    default:
      throw new Error(`ARM function ${node.name}() is not supported by test/unit/infra/armExpressions.ts`);
  }
}

/** A resource of the deployed tree, with the scope its expressions evaluate in. */
export interface DeployedResource {
  /** Module symbols from the top, with the copy index of looped modules, e.g. ["managedResourceGroupRoles[0]"]. */
  modulePath: string[];
  type: string;
  resource: Record<string, unknown>;
  scope: Scope;
}

interface TemplateLike {
  parameters?: Record<string, { defaultValue?: unknown }>;
  variables?: Record<string, unknown>;
  resources: Record<string, Record<string, unknown>> | Record<string, unknown>[];
}

/**
 * Every resource that a deployment of `template` with `parameters` would create (conditions false and copy loops
 * of zero left out), nested deployments (modules) expanded with their own parameters and target.
 */
export function deployedResources(
  template: TemplateLike,
  parameters: Record<string, unknown>,
  target: DeploymentTarget,
): DeployedResource[] {
  const top = new Scope(template, Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, () => v])), target);
  return expand(template, top, []);
}

function expand(template: TemplateLike, scope: Scope, modulePath: string[]): DeployedResource[] {
  const out: DeployedResource[] = [];
  const entries = Array.isArray(template.resources)
    ? template.resources.map((r, i) => [String(i), r] as const)
    : Object.entries(template.resources);
  for (const [symbol, resource] of entries) {
    if (resource.existing === true) continue;
    const copy = resource.copy as { count: unknown } | undefined;
    const count = copy === undefined ? 1 : Number(scope.evaluate(copy.count));
    for (let i = 0; i < count; i++) {
      const index = copy === undefined ? undefined : i;
      if (resource.condition !== undefined && scope.evaluate(resource.condition, index) !== true) continue;
      const type = String(resource.type);
      if (type !== "Microsoft.Resources/deployments") {
        out.push({ modulePath, type, resource, scope: index === undefined ? scope : withCopyIndex(scope, index) });
        continue;
      }
      const properties = resource.properties as {
        template: TemplateLike;
        parameters?: Record<string, { value: unknown } | string>;
      };
      const subscriptionId =
        resource.subscriptionId !== undefined
          ? String(scope.evaluate(resource.subscriptionId, index))
          : scope.target.subscriptionId;
      const resourceGroup =
        resource.resourceGroup !== undefined
          ? String(scope.evaluate(resource.resourceGroup, index))
          : resource.subscriptionId !== undefined
            ? undefined
            : scope.target.resourceGroup;
      const args = Object.fromEntries(
        Object.entries(properties.parameters ?? {}).map(([k, v]) => [
          k,
          // A conditional value compiles to one expression yielding the whole { value } object.
          () =>
            typeof v === "string"
              ? (scope.evaluate(v, index) as { value: unknown }).value
              : scope.evaluate(v.value, index),
        ]),
      );
      const inner = new Scope(properties.template, args, { subscriptionId, resourceGroup });
      const name = index === undefined ? symbol : `${symbol}[${index}]`;
      out.push(...expand(properties.template, inner, [...modulePath, name]));
    }
  }
  return out;
}

function withCopyIndex(scope: Scope, index: number): Scope {
  return new Proxy(scope, {
    get(target, prop, receiver) {
      if (prop === "copyIndex") return index;
      if (prop === "evaluate")
        return (value: unknown, copyIndex: number | undefined = index) => target.evaluate(value, copyIndex);
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}
