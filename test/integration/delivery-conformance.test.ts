/**
 * The delivery contract (src/delivery/types.ts) that every transport must keep: the same fault at the provider
 * gives the same outcome, whatever the wire. The send path's guarantees rest on these outcomes — a transport that
 * calls a lost answer `transient` would let a retry send twice, one that calls a refusal `ambiguous` would leave
 * keys `unknown` that were never sent. Runs against real servers (test/support/delivery-providers.ts).
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { messageIdFor, type DeliveryOutcome, type OutgoingMessage } from '../../src/delivery';
import { PROVIDERS, type ProviderKind, type ProviderUnderTest } from '../support/delivery-providers';

const TO = 'ada@example.test';
const CC = 'grace@example.test';

/** A message as the send path builds it (activities/build-message.ts), keyed so each case has its own. */
function message(key: string, extra: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    from: 'sendonce <jobs@sendonce.test>',
    to: { name: 'Ada Lovelace', address: TO },
    messageId: messageIdFor(key, 'sendonce.test'),
    subject: 'Your digest',
    text: 'hello',
    html: '<p>hello</p>',
    headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    listUnsubscribe: ['https://mail.example.test/unsubscribe?t=tok', 'mailto:unsubscribe@example.test?subject=unsubscribe%20tok'],
    ...extra,
  };
}

async function started(t: TestContext, kind: ProviderKind, opts?: Parameters<ProviderKind['start']>[0]): Promise<ProviderUnderTest> {
  const provider = await kind.start(opts);
  t.after(() => provider.close());
  return provider;
}

/** `send` must resolve, never reject, and never put an address into what it reports (it is stored and logged). */
async function send(provider: ProviderUnderTest, msg: OutgoingMessage, key: string): Promise<DeliveryOutcome> {
  const outcome = await provider.transport.send(msg, key);
  for (const address of [TO, CC]) assert.ok(!JSON.stringify(outcome).includes(address), `no address in ${JSON.stringify(outcome)}`);
  return outcome;
}

for (const kind of PROVIDERS) {
  describe(`delivery transport "${kind.name}"`, () => {
    test('accepted: held once, with our Message-ID, headers and List-Unsubscribe; the key itself is not sent', async (t) => {
      const provider = await started(t, kind);
      const key = 'email:digest:user-17:2026-12-07';
      const outcome = await send(provider, message('accepted'), key);
      assert.equal(outcome.kind, 'accepted');
      assert.equal(outcome.kind === 'accepted' && outcome.partialRejections, 0);
      assert.equal(typeof (outcome.kind === 'accepted' && outcome.response), 'string');
      const held = provider.held();
      assert.equal(held.length, 1);
      const [m] = held;
      assert.equal(m!.messageId, messageIdFor('accepted', 'sendonce.test'));
      assert.deepEqual(m!.recipients, [TO]);
      assert.equal(m!.subject, 'Your digest');
      assert.equal(m!.headers['list-unsubscribe-post'], 'List-Unsubscribe=One-Click');
      assert.equal(
        m!.headers['list-unsubscribe'],
        '<https://mail.example.test/unsubscribe?t=tok>, <mailto:unsubscribe@example.test?subject=unsubscribe%20tok>',
      );
      assert.match(m!.rawHeaders, /^To: "?Ada Lovelace"? <ada@example\.test>$/im);
      assert.ok(!(m!.rawHeaders + (m!.text ?? '')).includes('user-17'), 'the idempotency key (a user id) stays with us');
    });

    test('no such mailbox → permanent and a hard bounce; nothing held', async (t) => {
      const provider = await started(t, kind);
      provider.refuseMailbox(TO, 'no-such-user');
      const outcome = await send(provider, message('unknown-user'), 'k1');
      assert.equal(outcome.kind, 'permanent');
      assert.equal(outcome.kind === 'permanent' && outcome.hardBounce, true);
      assert.equal(provider.held().length, 0);
    });

    test('content refused → permanent, not a hard bounce (the mailbox exists)', async (t) => {
      const provider = await started(t, kind);
      provider.refuseContent();
      const outcome = await send(provider, message('content'), 'k2');
      assert.equal(outcome.kind, 'permanent');
      assert.equal(outcome.kind === 'permanent' && outcome.hardBounce, undefined);
    });

    test('try later → transient with the provider code; the retry is accepted and held once', async (t) => {
      const provider = await started(t, kind);
      provider.refuseMailbox(TO, 'try-later');
      const first = await send(provider, message('later'), 'k3');
      assert.equal(first.kind, 'transient');
      assert.equal(typeof (first.kind === 'transient' && first.code), 'number');
      assert.equal((await send(provider, message('later'), 'k3')).kind, 'accepted');
      assert.equal(provider.held().length, 1);
    });

    test('a cc refused while the primary is taken → accepted with one partial rejection', async (t) => {
      const provider = await started(t, kind);
      provider.refuseMailbox(CC, 'no-such-user');
      const outcome = await send(provider, message('cc', { cc: [{ name: '', address: CC }] }), 'k4');
      assert.deepEqual([outcome.kind, outcome.kind === 'accepted' && outcome.partialRejections], ['accepted', 1]);
      assert.deepEqual(provider.held()[0]?.recipients, [TO]);
    });

    test('the answer is lost after the provider took it → ambiguous, and no hidden retry (held exactly once)', async (t) => {
      const provider = await started(t, kind);
      provider.takeThenLoseAnswer();
      const outcome = await send(provider, message('lost'), 'k5');
      assert.equal(outcome.kind, 'ambiguous');
      await new Promise((resolve) => setTimeout(resolve, 500)); // room for a (wrong) transport-level resend
      assert.equal(provider.held().length, 1);
    });

    test('no answer at all → ambiguous after the answer timeout, not before', async (t) => {
      const provider = await started(t, kind);
      provider.neverAnswer();
      const before = Date.now();
      const outcome = await send(provider, message('silent'), 'k6');
      assert.equal(outcome.kind, 'ambiguous');
      assert.ok(Date.now() - before >= kind.answerTimeoutMs - 100, `waited ${Date.now() - before} ms`);
    });

    test('wrong credentials → auth; nothing held', async (t) => {
      const provider = await started(t, kind, { credentials: 'wrong' });
      assert.equal((await send(provider, message('auth'), 'k7')).kind, 'auth');
      assert.equal(provider.held().length, 0);
    });

    test('right credentials → accepted', async (t) => {
      const provider = await started(t, kind, { credentials: 'right' });
      assert.equal((await send(provider, message('auth-ok'), 'k8')).kind, 'accepted');
    });

    test('provider down → transient (nothing was handed over); back up → accepted', async (t) => {
      const provider = await started(t, kind);
      await provider.goDown();
      assert.equal((await send(provider, message('down'), 'k9')).kind, 'transient');
      await provider.comeBack();
      assert.equal((await send(provider, message('down'), 'k9')).kind, 'accepted');
      assert.equal(provider.held().length, 1);
    });

    test('an address that is not one → invalid_recipient, refused before the provider sees it', async (t) => {
      const provider = await started(t, kind);
      const outcome = await send(provider, message('bad', { to: { name: '', address: 'not an address' } }), 'k10');
      assert.equal(outcome.kind, 'invalid_recipient');
      assert.equal(provider.held().length, 0);
    });
  });
}
