/**
 * `runwarden/client`: a typed HTTP client for the Runwarden API (DESIGN §11, §15), for services that
 * start and report runs over HTTP. Paths, parameters, bodies and answers are typed from the API's
 * OpenAPI document (`/api/openapi.json`; `schema.ts` is generated from it at build time).
 *
 * @example
 * const api = createClient({ baseUrl: 'https://runwarden.example', token: process.env.RUNWARDEN_TOKEN });
 * const { data, error } = await api.GET('/api/operations/{id}', { params: { path: { id } } });
 */
import createFetchClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { paths } from './schema.js';

export type { components, operations, paths } from './schema.js';

export interface RunwardenClientOptions extends Omit<ClientOptions, 'baseUrl' | 'headers'> {
  /** Where Runwarden serves (scheme, host and port, e.g. `http://localhost:3000`); paths start at `/api`. */
  baseUrl: string;
  /** An API token (`rwt_…`, from `runwarden admin token create` or the web app), sent as a bearer token. */
  token?: string;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
}

export type RunwardenClient = Client<paths>;

export function createClient({
  baseUrl,
  token,
  headers,
  ...rest
}: RunwardenClientOptions): RunwardenClient {
  return createFetchClient<paths>({
    ...rest,
    baseUrl: baseUrl.replace(/\/+$/, ''),
    headers: {
      ...headers,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
  });
}
