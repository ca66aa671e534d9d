import t from 'tap';
import * as resp3 from './index';

t.test('the public API', async (t) => {
  const exports = Object.keys(resp3).sort();
  t.same(exports, [
    'DECODER_EXPECTED_CRLF',
    'DECODER_INVALID_BIG_NUMBER',
    'DECODER_INVALID_BOOLEAN',
    'DECODER_INVALID_DOUBLE',
    'DECODER_INVALID_INTEGER',
    'DECODER_INVALID_LENGTH',
    'DECODER_INVALID_NULL',
    'DECODER_INVALID_VERBATIM',
    'DECODER_LINE_TOO_LONG',
    'DECODER_UNKNOWN_TYPE',
    'DEFAULT_DECODER_LIMITS',
    'DEFAULT_REQUEST_LIMITS',
    'Decoder',
    'EMPTY_ARRAY',
    'INT_0',
    'INT_1',
    'INVALID_BULK_LENGTH',
    'INVALID_MULTIBULK_LENGTH',
    'OK',
    'PONG',
    'ProtocolError',
    'QUEUED',
    'RESP_TYPES',
    'ReplyWriter',
    'Request',
    'RequestParser',
    'TOO_BIG_BULK_COUNT',
    'TOO_BIG_INLINE',
    'TOO_BIG_MBULK_COUNT',
    'UNAUTHENTICATED_BULK_LENGTH',
    'UNAUTHENTICATED_MULTIBULK_LENGTH',
    'UNBALANCED_QUOTES',
    'expectedDollar',
    'formatDouble',
  ]);
  const module: Record<string, unknown> = resp3;
  for (const name of exports) t.not(module[name], undefined, name);
});

t.test('RESP_TYPES', async (t) => {
  const chars = Object.fromEntries(Object.entries(resp3.RESP_TYPES).map(([k, v]) => [k, String.fromCharCode(v)]));
  t.same(chars, {
    SIMPLE_STRING: '+',
    SIMPLE_ERROR: '-',
    INTEGER: ':',
    BULK_STRING: '$',
    ARRAY: '*',
    NULL: '_',
    BOOLEAN: '#',
    DOUBLE: ',',
    BIG_NUMBER: '(',
    BULK_ERROR: '!',
    VERBATIM_STRING: '=',
    MAP: '%',
    SET: '~',
    ATTRIBUTE: '|',
    PUSH: '>',
  });
});
