// The OpenAPI description (`GET /api/openapi.json`) against the real server: the
// document validates as OpenAPI 3.1, every request below is one it describes (path,
// method and answered status), every JSON answer matches its schema (with no property
// the schema leaves out), and every described operation is exercised at least once.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { createHmac, randomUUID } from "node:crypto";
import SwaggerParser from "@apidevtools/swagger-parser";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { scenarios } from "./scenarios.js";

const URL = process.env.SB_URL;
const SECRET = process.env.SB_SECRET;

export function token(sub, role = "customer", name = sub) {
  const enc = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const body = `${enc({ alg: "HS256", typ: "JWT" })}.${enc({ sub, role, name, exp })}`;
  return `${body}.${createHmac("sha256", SECRET).update(body).digest("base64url")}`;
}

export const uid = (prefix) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** A copy in which every object schema with properties allows no others, so an
 * answer with an undescribed field fails. */
function closed(schema, part = false) {
  if (Array.isArray(schema)) return schema.map((s) => closed(s, part));
  if (!schema || typeof schema !== "object") return schema;
  const out = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, closed(v, k === "allOf")]));
  // An allOf is closed at its top (unevaluatedProperties sees every part's
  // properties); its parts stay open, or each would refuse the others' properties.
  if (out.allOf) out.unevaluatedProperties = false;
  else if (!part && out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

/** The document closed, except for the schemas that an allOf extends (closing those
 * would refuse the extension's own properties; the allOf itself is closed). */
function closedDoc(doc) {
  const out = closed(doc);
  const extended = new Set();
  const walk = (v) => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== "object") return;
    for (const part of v.allOf ?? []) if (part.$ref) extended.add(part.$ref.split("/").pop());
    Object.values(v).forEach(walk);
  };
  walk(doc);
  for (const name of extended) {
    if (doc.components.schemas[name]?.additionalProperties === undefined) delete out.components.schemas[name].additionalProperties;
  }
  return out;
}

/** The server's description, and a checker of real answers against it. */
class Described {
  constructor(doc) {
    this.doc = doc;
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addSchema(closedDoc(doc), "doc");
    this.templates = Object.keys(doc.paths).map((t) => ({
      template: t,
      re: new RegExp(`^${t.replace(/\{[^}]+\}/g, "[^/]+")}$`),
    }));
    this.seen = new Set();
  }

  /** The described path a real one is an instance of (the most literal one). */
  template(path) {
    const hits = this.templates.filter((t) => t.re.test(path));
    hits.sort((a, b) => (a.template.match(/\{/g) || []).length - (b.template.match(/\{/g) || []).length);
    return hits[0]?.template;
  }

  /** Send a request; assert it is described and that its answer matches. */
  async call(method, path, { body, bearer, headers = {}, raw } = {}) {
    const url = new globalThis.URL(path, URL);
    const template = this.template(url.pathname);
    assert.ok(template, `${method} ${url.pathname} is not described`);
    const op = this.doc.paths[template][method.toLowerCase()];
    assert.ok(op, `${method} ${template} is not described`);
    const h = { ...headers };
    if (bearer) h.authorization = `Bearer ${bearer}`;
    if (body !== undefined && raw === undefined) h["content-type"] = "application/json";
    const res = await fetch(url, {
      method,
      headers: h,
      body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const text = await res.text();
    const response = op.responses[String(res.status)];
    assert.ok(response, `${method} ${template} answered ${res.status}, which is not described: ${text.slice(0, 300)}`);
    const key = `${method.toUpperCase()} ${template}`;
    const content = response.content ?? {};
    const type = (res.headers.get("content-type") || "").split(";")[0];
    let json = null;
    if (content["application/json"]) {
      assert.equal(type, "application/json", `${key} ${res.status}: ${type}`);
      json = JSON.parse(text);
      const pointer = `doc#/paths/${template.replaceAll("~", "~0").replaceAll("/", "~1")}/${method.toLowerCase()}/responses/${res.status}/content/application~1json/schema`;
      const validate = this.ajv.compile({ $ref: pointer });
      assert.ok(
        validate(json),
        `${key} ${res.status} does not match its schema: ${this.ajv.errorsText(validate.errors)}\n${text.slice(0, 600)}`,
      );
    } else if (Object.keys(content).length) {
      assert.ok(content[type] || content["*/*"], `${key} ${res.status} answered ${type}, described: ${Object.keys(content)}`);
    }
    if (res.status < 300) this.seen.add(key);
    return { status: res.status, json, text, headers: res.headers };
  }

  /** Every described operation that no request exercised successfully. */
  unexercised() {
    const all = [];
    for (const [template, item] of Object.entries(this.doc.paths)) {
      for (const method of Object.keys(item)) {
        if (["get", "post", "put", "patch", "delete"].includes(method)) all.push(`${method.toUpperCase()} ${template}`);
      }
    }
    return all.filter((k) => !this.seen.has(k));
  }
}

describe("the OpenAPI description", () => {
  let described;
  before(async () => {
    const res = await fetch(`${URL}/api/openapi.json`);
    assert.equal(res.status, 200);
    described = new Described(await res.json());
  });

  it("validates as OpenAPI 3.1", async () => {
    assert.match(described.doc.openapi, /^3\.1\./);
    await SwaggerParser.validate(structuredClone(described.doc));
  });

  it("describes every answer of the real server, and every operation is exercised", async () => {
    for (const scenario of scenarios) await scenario(described, { token, uid, hookUrl: process.env.SB_HOOK_URL });
    assert.deepEqual(described.unexercised(), [], "operations no scenario exercised");
  });

  it("the checker refuses what it should", async () => {
    // An undescribed field fails a closed schema; an undescribed path fails the call.
    const v = described.ajv.compile({ $ref: "doc#/components/schemas/ErrorBody" });
    assert.ok(v({ success: false, message: "m", code: "c" }));
    assert.ok(!v({ success: false, message: "m", code: "c", surprise: 1 }));
    assert.ok(!v({ success: false, code: "c" }));
    await assert.rejects(described.call("GET", "/api/not-described"), /not described/);
  });
});
