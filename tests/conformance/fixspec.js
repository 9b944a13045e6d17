#!/usr/bin/env node
// See LICENSE file for copyright and license details.
//
// fixspec.js IN.yaml OUT.json: write a copy of the OpenAI OpenAPI
// description that Stoplight Prism can compile, as JSON.
//
// Why: the published spec (openapi 3.1.0) still carries OpenAPI 3.0's
// `nullable: true` in 24 schemas that have no `type` (a bare $ref, a
// oneOf/anyOf, or an allOf member that is only {nullable: true}).  Prism
// compiles request schemas with ajv, which rejects such a schema ("nullable"
// cannot be used without "type"); Prism swallows that error and then
// validates nothing, answering 200 to any body.  So every `nullable` without
// a sibling `type` is rewritten, keeping what it meant (null is allowed):
//   - with oneOf/anyOf: `{type: "null"}` joins the alternatives;
//   - with a $ref: the schema becomes anyOf [{$ref}, {type: "null"}];
//   - otherwise (e.g. an allOf member {nullable: true}, which in 3.0 could
//     not widen the other members anyway) the keyword is dropped.
// Nothing else is touched.  The output is deterministic: same input, same
// bytes (key order is the input's).  Only stdlib and js-yaml (package.json).
'use strict';
const fs = require('fs');
const path = require('path');
const yaml = require(path.join(__dirname, 'node_modules', 'js-yaml'));

const [inFile, outFile] = process.argv.slice(2);
if (!inFile || !outFile) {
	process.stderr.write('usage: fixspec.js IN.yaml OUT.json\n');
	process.exit(2);
}

const doc = yaml.safeLoad(fs.readFileSync(inFile, 'utf8'));
const isNull = (s) => s && (s.type === 'null' ||
	(Array.isArray(s.type) && s.type.includes('null')));
let fixed = 0;

function fix(node) {
	if (Array.isArray(node)) {
		node.forEach(fix);
		return;
	}
	if (node === null || typeof node !== 'object')
		return;
	for (const k of Object.keys(node))
		fix(node[k]);
	if (!('nullable' in node) || 'type' in node)
		return;
	const nullable = node.nullable === true;
	delete node.nullable;
	fixed++;
	if (!nullable)
		return;
	const alt = node.oneOf ? 'oneOf' : node.anyOf ? 'anyOf' : null;
	if (alt) {
		if (!node[alt].some(isNull))
			node[alt].push({ type: 'null' });
	} else if (node.$ref) {
		node.anyOf = [{ $ref: node.$ref }, { type: 'null' }];
		delete node.$ref;
	}
}

fix(doc);
fs.writeFileSync(outFile, JSON.stringify(doc) + '\n');
process.stderr.write(`fixspec: ${fixed} dangling nullable fixed\n`);
