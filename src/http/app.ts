import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { Db } from '../db/pool.js';
import { errorBody, handleError } from './errors.js';
import { healthRoutes } from './routes/health.js';

export interface AppDeps {
  db: Db;
  logger: Logger;
}

/**
 * The HTTP API (DESIGN §11): zod schemas on every route, OpenAPI at /api/openapi.json, Swagger UI
 * at /api/docs, errors always `{error:{code,message,details?}}`, bodies up to 1 MiB.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleError);
  // A JSON API: any other body type is 415, not a string that fails validation later.
  app.removeContentTypeParser('text/plain');
  app.setNotFoundHandler((_request, reply) =>
    reply.status(404).send(errorBody('not_found', 'Not found.')),
  );

  await app.register(swagger, {
    openapi: { info: { title: 'Runwarden API', version: '0.1.0' } },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoutes, { db: deps.db });
  return app;
}
