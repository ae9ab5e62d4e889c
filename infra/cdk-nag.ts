// cdk-nag is a CommonJS (jsii) package whose exports Node's ESM loader cannot all list, so a
// named import fails under tsx; this one place takes them from the module object in both loaders.
import * as nag from 'cdk-nag';

const cdkNag = ((nag as { default?: typeof nag }).default ?? nag) as typeof nag;
export const { AwsSolutionsChecks } = cdkNag;
