import { describe, expect, it } from 'vitest';
import { CinderError, KeystoneError, QuotaExceededError, failureKindOf, isNotFound, parseErrorBody, parseRetryAfter } from './errors.js';

describe('parseErrorBody', () => {
  it.each([
    ['cinder envelope', '{"itemNotFound":{"code":404,"message":"Volume abc could not be found."}}', { cinderCode: 'itemNotFound', message: 'Volume abc could not be found.' }],
    [
      'overLimit with retryAfter',
      '{"overLimit":{"code":413,"message":"VolumeLimitExceeded: Maximum number of volumes allowed (5) exceeded for quota \'volumes\'.","retryAfter":"0"}}',
      { cinderCode: 'overLimit', retryAfter: 0 },
    ],
    ['keystone', '{"error":{"code":401,"title":"Unauthorized","message":"The request you have made requires authentication."}}', { cinderCode: 'Unauthorized', message: 'The request you have made requires authentication.' }],
    ['router 404', '{"message":"The resource could not be found.<br /><br />\\n\\n\\n","code":"404 Not Found","title":"Not Found"}', { cinderCode: 'Not Found', message: 'The resource could not be found.' }],
    ['html', '<html><body><h1>502 Bad Gateway</h1></body></html>', { message: '502 Bad Gateway' }],
    ['empty', '', {}],
  ])('%s', (_n, body, want) => expect(parseErrorBody(body)).toMatchObject(want));

  it('bounds very long messages', () => {
    expect(parseErrorBody('x'.repeat(5000)).message!.length).toBeLessThan(600);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('0')).toBe(0);
    expect(parseRetryAfter('3')).toBe(3);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    const now = Date.parse('2024-01-01T00:00:00Z');
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:00:05 GMT', now)).toBe(5);
  });
});

describe('what a Cinder failure means (failureKindOf)', () => {
  const base = { method: 'GET', route: '/volumes/{id}' };
  it.each([
    [new CinderError({ ...base, kind: 'http', status: 404, cinderCode: 'itemNotFound', message: 'gone' }), 'not-found'],
    [new CinderError({ ...base, kind: 'http', status: 400, cinderCode: 'badRequest', message: 'bad' }), 'precondition'],
    [new QuotaExceededError({ ...base, status: 413, cinderCode: 'overLimit', message: 'quota', retryAfter: 0 }), 'exhausted'],
    [new CinderError({ ...base, kind: 'http', status: 413, cinderCode: 'overLimit', message: 'slow down', retryAfter: 5 }), 'unavailable'],
    [new CinderError({ ...base, kind: 'timeout', message: 'no answer' }), 'unavailable'],
    [new CinderError({ ...base, kind: 'network', message: 'reset', networkCode: 'ECONNRESET' }), 'unavailable'],
    [new CinderError({ ...base, kind: 'http', status: 503, message: 'down' }), 'unavailable'],
    [new CinderError({ ...base, kind: 'malformed', status: 200, message: 'bad body' }), 'internal'],
    [new KeystoneError({ method: 'POST', route: '/auth/tokens', kind: 'http', status: 401, message: 'who?' }), 'unauthenticated'],
  ])('%o → %s', (err, kind) => expect(failureKindOf(err)).toBe(kind));

  it('helpers classify', () => {
    const nf = new CinderError({ ...base, kind: 'http', status: 404, message: 'x' });
    expect(isNotFound(nf)).toBe(true);
    expect(isNotFound(new Error('404'))).toBe(false);
  });
});
