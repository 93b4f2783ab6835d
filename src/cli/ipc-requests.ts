/**
 * Requests to a child process over its IPC channel, each answered by a message that carries the
 * request's id: `ask` resolves with the answer's text, or undefined when none came within
 * `timeoutMs` or the message could not be sent (a child that is gone or busy never blocks the
 * asker, as a /metrics scrape must not). `answer` hands an answer that arrived to its waiter.
 */
export function makeIpcRequests(timeoutMs: number) {
  const waiting = new Map<number, (text: string | undefined) => void>();
  let next = 0;
  return {
    ask(send: (id: number, sent: (e: Error | null) => void) => void): Promise<string | undefined> {
      const id = ++next;
      return new Promise<string | undefined>((resolve) => {
        const done = (text: string | undefined) => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve(text);
        };
        const timer = setTimeout(() => done(undefined), timeoutMs);
        waiting.set(id, done);
        send(id, (e) => e && done(undefined));
      });
    },
    answer(id: number, text: string | undefined): void {
      waiting.get(id)?.(text);
    },
  };
}
