#!/usr/bin/env node
// Checks CloudFormation templates with AWS's own validator: @aws/cloudformation-validate, the engine aws-cdk-lib
// bundles for its CloudFormationValidatePlugin. It carries cfn-lint's rules (W2508, E3012, ...) and CloudFormation's
// published resource schemas, and runs offline.
//
//   node check.js TEMPLATE...
//
// Each template is checked as its parameters' defaults deploy it. The engine's own parameter overrides are not used:
// with them it still judges resources whose condition turned false (a spurious W1028 on ProxyInstance at
// ProxyFleetSize=3), so a caller checks other parameter values by writing each variant out resolved, as
// AwsSpecValidationTests does. One line per finding of severity WARN or above; INFO findings (notes such as "this
// property is create-only") are advice, not defects: they are counted, not failed on.
// Exit codes: 0 no findings, 1 findings, 2 bad arguments or a template that cannot be read.
'use strict';

const fs = require('fs');
const path = require('path');

// The engine is a dependency aws-cdk-lib bundles rather than re-exports; the registry's standalone copy is older.
// Resolve it from aws-cdk-lib's own directory.
function loadEngine() {
  const cdkDirectory = path.dirname(require.resolve('aws-cdk-lib/package.json'));
  return require(require.resolve('@aws/cloudformation-validate', { paths: [cdkDirectory] }));
}

const FAILING = new Set(['WARN', 'ERROR', 'FATAL']);

function main(templates) {
  if (templates.length === 0 || templates.some((t) => t.startsWith('-'))) {
    process.stderr.write('cfn-check: name the templates to check, and nothing else\nusage: node check.js TEMPLATE...\n');
    return 2;
  }

  // Before the engine, which takes seconds to build: a missing file is a mistake in the command line.
  for (const template of templates) {
    try {
      fs.accessSync(template, fs.constants.R_OK);
    } catch (error) {
      process.stderr.write(`cfn-check: ${template}: cannot be read: ${error.message}\n`);
      return 2;
    }
  }

  const validate = loadEngine();
  const engine = new validate.CompositeEngine();
  let findings = 0;
  let advice = 0;
  try {
    for (const template of templates) {
      let report;
      try {
        report = engine.validateTemplate(new validate.TemplateFile(template), {
          detailLevel: 'STANDARD',
          severityLevel: 'INFO',
          pseudoParameterOverrides: { region: 'us-east-1' },
        });
      } catch (error) {
        process.stderr.write(`cfn-check: ${template}: cannot be checked: ${String(error)}\n`);
        return 2;
      }

      for (const d of report.diagnostics) {
        if (!FAILING.has(d.severity)) {
          advice++;
          continue;
        }

        findings++;
        const where = [d.entity && d.entity.logicalId, d.propertyPath].filter(Boolean).join(' ');
        process.stdout.write(`${template}: [${d.severity}] ${d.ruleId} ${where}: ${d.message}\n`);
      }
    }
  } finally {
    engine.free();
  }

  process.stdout.write(`cfn-check ${validate.version()}: ${templates.length} template(s): ${findings} finding(s), ${advice} informational note(s) not counted\n`);
  return findings === 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
