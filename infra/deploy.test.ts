import { deployProblems, stackFunctions } from './deploy';

const pushed = (registry: string) =>
  Object.fromEntries(['thumbnail', 'notify', 'csv-import', 'audit', 'report', 'api'].map((name) => [name, { repository: `lambda-pipelines/${name}`, digest: 'sha256:aa', registry, tag: 'abc' }]));
const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';

describe('make deploy: what must be there first', () => {
  it('knows the function folders from the stack itself', () => {
    expect(stackFunctions().sort()).toEqual(['api', 'audit', 'csv-import', 'notify', 'report', 'thumbnail']);
  });

  it('nothing is missing when every function was pushed to ECR in the deploy region', () => {
    expect(deployProblems(pushed(ECR), 'eu-west-1')).toEqual([]);
  });

  it('names the functions without a pushed image and says to run make push', () => {
    const { notify: _n, audit: _a, ...some } = pushed(ECR);
    expect(deployProblems(some, 'eu-west-1')).toEqual([expect.stringMatching(/^no pushed image for notify, audit in .*pushed-images.json: run make push/)]);
    expect(deployProblems({}, undefined)[0]).toMatch(/^no pushed image for thumbnail, notify, csv-import, audit/);
  });

  it('refuses images in another region, or outside ECR, in one sentence each', () => {
    expect(deployProblems(pushed(ECR), 'us-east-1')).toEqual(['the images were pushed to ECR in eu-west-1 but AWS_REGION is us-east-1: Lambda pulls images from its own region; push again with AWS_REGION=us-east-1']);
    expect(deployProblems(pushed('127.0.0.1:5000'), 'eu-west-1')[0]).toMatch(/were pushed to a registry that is not ECR/);
  });
});
