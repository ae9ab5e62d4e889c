// Where the local Lambda service listens. aws-lambda-ric accepts only `host:port` in
// AWS_LAMBDA_RUNTIME_API (no path), so each function gets a Runtime API port of its own: the
// environments of one function call one port, and the port tells the service which function.

/** The Lambda API (`aws lambda invoke --endpoint-url http://127.0.0.1:9001`) and /health. */
export const LAMBDA_API_PORT = 9001;
/** Function URLs: 9010 for the first of the template (by logical id), 9011 for the next... */
export const FUNCTION_URL_BASE_PORT = 9010;
/** The browser's door to an AWS_IAM URL, a proxy that signs each request: 9080, 9081... */
export const SIGNING_PROXY_BASE_PORT = 9080;
/** How many Function URLs (and signing proxies) docker-compose.yml publishes. */
export const MAX_FUNCTION_URLS = 10;
/** Runtime APIs: 9100 for the first function of the template, 9101 for the next... */
export const RUNTIME_API_BASE_PORT = 9100;
/** The checking endpoint (local-lambda/iam/): functions' AWS_ENDPOINT_URL, and the browser's presigned URLs. */
export const CHECKING_ENDPOINT_PORT = 4567;
/** LocalStack's gateway. */
export const LOCALSTACK_PORT = 4566;

export const functionUrlPort = (index: number): number => FUNCTION_URL_BASE_PORT + index;
export const signingProxyPort = (index: number): number => SIGNING_PROXY_BASE_PORT + index;
export const runtimeApiPort = (index: number): number => RUNTIME_API_BASE_PORT + index;
