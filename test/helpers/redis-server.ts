export { PrivateRedis } from '../../src/chaos/private-redis.js';
