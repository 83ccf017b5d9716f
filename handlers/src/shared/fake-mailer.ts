/**
 * An in-memory outbox standing in for an email provider, so tests (and curious readers) can see what
 * was sent and how many times.
 */
export interface Email {
  to: string;
  subject: string;
  body: string;
}

const outbox: Email[] = [];

export const mailer = {
  async send(email: Email): Promise<void> {
    outbox.push({ ...email });
  },

  /** Emails sent so far, optionally only those to one address. */
  sent(to?: string): Email[] {
    return outbox.filter((e) => to === undefined || e.to === to);
  },
};
