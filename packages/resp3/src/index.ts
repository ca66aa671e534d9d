/**
 * @shrike/resp3: RESP2/RESP3 for Shrike, usable on its own.
 *
 * - RequestParser (request.ts): the server's hot path, client requests to argument
 *   offsets, with Redis 7.0.15's acceptance rules and protocol error texts.
 * - ReplyWriter (encoder.ts): the only writer of RESP bytes; RESP2/RESP3 differences
 *   are decided there.
 * - Decoder (decoder.ts): a streaming decoder of replies, for clients and tests.
 */

export {
  DEFAULT_DECODER_LIMITS,
  Decoder,
  type DecoderLimits,
} from './decoder';
export {
  EMPTY_ARRAY,
  formatDouble,
  INT_0,
  INT_1,
  OK,
  PONG,
  QUEUED,
  ReplyWriter,
} from './encoder';
export * from './errors';
export {
  DEFAULT_REQUEST_LIMITS,
  Request,
  type RequestLimits,
  RequestParser,
} from './request';
export * from './types';
