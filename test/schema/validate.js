// Validates JSON documents against an lbx JSON Schema with ajv, for
// internal/schema's Go tests. Usage: node validate.js SCHEMA.json < DOCS.json
// where DOCS.json is [{"name": ..., "doc": ...}, ...]; prints
// [{"name": ..., "valid": bool, "errors": [...]}, ...].
"use strict";
const fs = require("fs");
const Ajv = require("ajv");

const schema = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
// strict: an unknown keyword or a malformed schema fails compilation.
const ajv = new Ajv({ allErrors: true, strict: true });
const validate = ajv.compile(schema);
const docs = JSON.parse(fs.readFileSync(0, "utf8"));
const out = docs.map(({ name, doc }) => {
  const valid = validate(doc);
  return { name, valid, errors: valid ? [] : validate.errors.map((e) => `${e.instancePath || "/"} ${e.message}`) };
});
process.stdout.write(JSON.stringify(out));
