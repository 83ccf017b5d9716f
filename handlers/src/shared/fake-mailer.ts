/**
 * An in-memory outbox standing in for an email provider, so tests can see what was sent and how many
 * times. Outside tests it also prints each email, so with `npm start` your "inbox" is the terminal.
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
    if (process.env.NODE_ENV !== "test")
      console.log(`[fake-mailer] to ${email.to}: ${email.subject} — ${email.body}`);
  },

  /** Emails sent so far, optionally only those to one address. */
  sent(to?: string): Email[] {
    return outbox.filter((e) => to === undefined || e.to === to);
  },
};
