import { PoisonMessageError } from '../shared/errors.js';

/** Confluent wire format: magic byte 0, 4-byte big-endian schema id, Avro payload. */
export interface Framed {
  schemaId: number;
  payload: Buffer;
}

export function unframe(buf: Buffer): Framed {
  if (buf.length < 5)
    throw new PoisonMessageError(
      'bad-wire-format',
      `message of ${buf.length} bytes is too short for the wire format`,
    );
  if (buf[0] !== 0) throw new PoisonMessageError('bad-wire-format', `magic byte is ${buf[0]}, expected 0`);
  return { schemaId: buf.readUInt32BE(1), payload: buf.subarray(5) };
}

export function frame(schemaId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(schemaId, 1);
  return Buffer.concat([head, payload]);
}
