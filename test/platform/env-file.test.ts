import { parseEnv } from 'node:util';
import { expect, it } from 'vitest';
import { withEnvValues } from '../../src/platform/env-file.js';

it('replaces a quoted value that spans lines whole, keeps the rest, and reads back as written', () => {
  const before = [
    '# keep me',
    'PRIVATE_KEY="-----BEGIN RSA PRIVATE KEY-----',
    'old',
    '-----END RSA PRIVATE KEY-----"',
    "NOTE='one # two'",
    'APP_ID=1',
    'APP_ID=2',
    '',
  ].join('\n');
  const key = '-----BEGIN RSA PRIVATE KEY-----\nnew+/=\n-----END RSA PRIVATE KEY-----\n';
  const after = withEnvValues(before, { PRIVATE_KEY: key, APP_ID: '7', WEBHOOK_SECRET: 's3cr3t' });
  expect(after).toBe(
    [
      '# keep me',
      'PRIVATE_KEY="-----BEGIN RSA PRIVATE KEY-----\\nnew+/=\\n-----END RSA PRIVATE KEY-----\\n"',
      "NOTE='one # two'",
      'APP_ID=7',
      'WEBHOOK_SECRET=s3cr3t',
      '',
    ].join('\n'),
  );
  expect(parseEnv(after)).toEqual({
    PRIVATE_KEY: key,
    NOTE: 'one # two',
    APP_ID: '7',
    WEBHOOK_SECRET: 's3cr3t',
  });
});

it('writes to an empty file, and refuses a value it could not write back faithfully', () => {
  expect(withEnvValues('', { A: 'x' })).toBe('A=x\n');
  expect(() => withEnvValues('', { A: 'say "hi"' })).toThrow(/cannot be written to \.env/);
});
