// Import directions, checked by `make typecheck` (dependency-cruiser). The parts of the project and
// who may use whom; tests (*.test.ts) may reach across, production code may not.
//   functions/     the Lambda functions: their own code and functions/shared/ only
//   infra/         the CDK app (the stack): no local tooling, no function code (types aside)
//   local-lambda/  the local Lambda service: reads templates; generic helpers of functions/shared/
//   toolkit/       the one local toolkit scripts, bench and suites share
//   scripts/       entry points (make targets), never the suites
//   integration/   the suites, never the scripts
const notTests = '\\.test\\.ts$';
module.exports = {
  forbidden: [
    {
      name: 'functions-stay-functions',
      comment: 'A function bundles its own folder and functions/shared/ only: nothing of the stack, the local service or the tools.',
      severity: 'error',
      from: { path: '^functions/', pathNot: notTests },
      to: { path: '^(infra|local-lambda|toolkit|scripts|integration)/' },
    },
    {
      name: 'functions-do-not-import-each-other',
      comment: 'functions/<a>/ never imports functions/<b>/ (shared code lives in functions/shared/).',
      severity: 'error',
      from: { path: '^functions/([^/]+)/', pathNot: [notTests, '^functions/shared/'] },
      to: { path: '^functions/', pathNot: ['^functions/$1/', '^functions/shared/'] },
    },
    {
      name: 'infra-is-the-stack',
      comment: 'The CDK app describes the stack; it knows function code only by the types of its configuration.',
      severity: 'error',
      from: { path: '^infra/', pathNot: notTests },
      to: { path: '^(local-lambda|toolkit|scripts|integration)/' },
    },
    {
      name: 'infra-knows-function-config-types-only',
      severity: 'error',
      from: { path: '^infra/', pathNot: notTests },
      to: { path: '^functions/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'local-lambda-runs-any-template',
      comment: 'The local Lambda service reads templates: it knows no function, no stack description, no tool.',
      severity: 'error',
      from: { path: '^local-lambda/', pathNot: notTests },
      to: { path: '^(infra|toolkit|scripts|integration)/|^functions/(?!shared/)' },
    },
    {
      name: 'toolkit-serves-scripts-and-suites',
      severity: 'error',
      from: { path: '^toolkit/', pathNot: notTests },
      to: { path: '^(scripts|integration)/' },
    },
    {
      name: 'scripts-are-entry-points',
      comment: 'Scripts share code through toolkit/, never through the suites.',
      severity: 'error',
      from: { path: '^scripts/', pathNot: notTests },
      to: { path: '^integration/' },
    },
    {
      name: 'suites-do-not-run-scripts-code',
      comment: 'Suites run what a user runs (make, the CLI); shared code lives in toolkit/.',
      severity: 'error',
      from: { path: '^integration/' },
      to: { path: '^scripts/' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import resolves (a moved file is caught here).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|cdk\\.out|dist|\\.cache)/|functions/api/dashboard/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], mainFields: ['module', 'main', 'types', 'typings'], extensions: ['.ts', '.mjs', '.js', '.json', '.d.mts', '.d.ts'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
