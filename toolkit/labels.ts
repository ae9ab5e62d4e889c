// Docker labels: how the local stack's containers are found and cleaned up.
export { FUNCTION_IMAGE_LABEL, FUNCTION_LABEL, PEER_LABEL, STACK_LABEL } from '../local-lambda/container-spec';

/** Every container a suite starts (and, through the proxy, every function container of a suite's stack). */
export const TEST_LABEL = 'lambda-pipelines.test';
/** `make up`'s stack: the compose project, which is also the stack label of its function containers. */
export const COMPOSE_PROJECT = process.env.COMPOSE_PROJECT_NAME ?? 'lambda-pipelines';
export const PROJECT = process.env.PROJECT ?? 'lambda-pipelines';
/** A local image of this project: `<project>/<function folder>:latest`. */
export const imageOf = (name: string, tag = 'latest'): string => `${PROJECT}/${name}:${tag}`;
