// Where the local stack answers on the developer's machine (docker-compose.yml publishes these on
// 127.0.0.1), and the region and account LocalStack plays.
import { CHECKING_ENDPOINT_PORT, FUNCTION_URL_BASE_PORT, LAMBDA_API_PORT, LOCALSTACK_PORT, SIGNING_PROXY_BASE_PORT } from '../local-lambda/ports';

export { CHECKING_ENDPOINT_PORT, FUNCTION_URL_BASE_PORT, LAMBDA_API_PORT, LOCALSTACK_PORT, SIGNING_PROXY_BASE_PORT };
export const LOCALSTACK_URL = `http://127.0.0.1:${LOCALSTACK_PORT}`;
export const LAMBDA_API_URL = `http://127.0.0.1:${LAMBDA_API_PORT}`;
/** The dashboard: the signing proxy of the first Function URL. */
export const DASHBOARD_URL = `http://127.0.0.1:${SIGNING_PROXY_BASE_PORT}/`;
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT_ID = '000000000000';
/** Every port `make up` needs free (or held by its own stack). */
export const STACK_PORTS = [LOCALSTACK_PORT, CHECKING_ENDPOINT_PORT, LAMBDA_API_PORT, FUNCTION_URL_BASE_PORT, SIGNING_PROXY_BASE_PORT];
