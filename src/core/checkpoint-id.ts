/** `ckpt-YYYYMMDD-HHMMSS-xxxxxxxx`: sortable by time, unique by its random suffix. */
export const CHECKPOINT_ID_PATTERN = /^ckpt-\d{8}-\d{6}-[0-9a-f]{8}$/;

export function checkpointId(now: Date, randomHex8: string): string {
  if (!/^[0-9a-f]{8}$/.test(randomHex8)) throw new Error('checkpointId needs 8 lowercase hex characters');
  const iso = now.toISOString(); // 2026-11-24T17:46:00.000Z
  const date = iso.slice(0, 10).replaceAll('-', '');
  const time = iso.slice(11, 19).replaceAll(':', '');
  return `ckpt-${date}-${time}-${randomHex8}`;
}
