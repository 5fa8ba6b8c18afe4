/** Email addresses in log lines: replaced everywhere unless LOG_LEVEL=debug AND LOG_RECIPIENT_ADDRESSES=true. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/logger';

function capture(level: string, recipientAddresses: boolean) {
  const out: string[] = [];
  const logger = createLogger(level, { write: (s: string) => void out.push(s) }, { recipientAddresses });
  return { logger, text: () => out.join('') };
}

const emit = (logger: ReturnType<typeof createLogger>) => {
  logger.child({ to: 'bound@example.com' }).warn(
    { err: new Error('550 5.1.1 <alice@example.com>: Recipient address rejected'), nested: { list: ['bob@example.org'] } },
    'send to carol@example.net failed\nnext: dave@example.com',
  );
};

test('addresses are replaced in message, fields, nested values, errors and child bindings by default', () => {
  for (const [level, flag] of [['info', false], ['info', true], ['debug', false]] as const) {
    const { logger, text } = capture(level, flag);
    emit(logger);
    const line = text();
    assert.doesNotMatch(line, /@example\.(com|org|net)/, `level ${level}, flag ${flag}: ${line}`);
    assert.match(line, /<address>/);
    assert.match(line, /Recipient address rejected/, 'the rest of the text stays');
    const parsed = JSON.parse(line) as { msg: string; err: { type: string } };
    assert.equal(parsed.msg, 'send to <address> failed\nnext: <address>', 'still valid JSON, escapes intact');
    assert.equal(parsed.err.type, 'Error', 'errors keep pino\'s serializer');
  }
});

test('debug level AND LOG_RECIPIENT_ADDRESSES=true show addresses (for an operator chasing one delivery)', () => {
  const { logger, text } = capture('debug', true);
  emit(logger);
  assert.match(text(), /alice@example\.com/);
  assert.match(text(), /carol@example\.net/);
  assert.match(text(), /bound@example\.com/);
});
