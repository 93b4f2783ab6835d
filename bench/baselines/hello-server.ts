/**
 * The HTTP ceiling: a fastify hello-world route in its own process, measured by the
 * same load generator as scimcast. Nothing can answer faster through fastify on this machine.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));
const url = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`listening ${url}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
