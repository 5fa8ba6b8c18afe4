import { waitForPort } from './ports';

export interface MailInboxHandle {
  smtpPort: number;
  webUrl: string;
  stop(): Promise<void>;
}

/**
 * MailDev: a real SMTP server that keeps every message and shows it in a web inbox (local stack only;
 * it never relays). Both listeners on 127.0.0.1.
 */
export async function startMailInbox(smtpPort: number, webPort: number, mailDirectory?: string): Promise<MailInboxHandle> {
  // maildev 3 is ESM-only ("import" export condition), so it is loaded with a dynamic import.
  const { MailDev } = await import('maildev');
  const maildev = new MailDev({
    smtp: smtpPort,
    ip: '127.0.0.1',
    web: webPort,
    webIp: '127.0.0.1',
    silent: true,
    ...(mailDirectory ? { mailDirectory } : {}),
  });
  await maildev.start();
  try {
    await waitForPort(webPort, 'mail inbox (web)');
  } catch (err) {
    await maildev.stop().catch(() => undefined); // SMTP may be up without the web inbox: stop that half too
    throw err;
  }
  return {
    smtpPort,
    webUrl: `http://127.0.0.1:${webPort}`,
    stop: () => maildev.stop(),
  };
}
