export { PrivatePostgres } from '../../src/chaos/private-postgres.js';
