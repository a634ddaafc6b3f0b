/**
 * `runwarden/fastify`: mount Runwarden's web app and API in your own Fastify server (DESIGN §15).
 * See README "Embedding Runwarden in your Fastify server".
 */
export {
  type RunwardenFastifyOptions,
  type RunwardenPrincipal,
  runwardenFastify,
} from './plugin.js';
