/**
 * A password from stdin (`--password-stdin`): the first line, without its
 * line ending, so `echo "$PW" | runnel ...` and a file redirect both work
 * and the password shows up in no process list or shell history. Stdin is
 * paused, not destroyed, once the line is in (destroying it would end the
 * command as if it were interrupted).
 */
export function readStdinLine(stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const done = (): void => {
      stdin.off('data', onData);
      stdin.off('end', done);
      stdin.off('error', reject);
      stdin.pause();
      resolve(text.split(/\r?\n/)[0] ?? '');
    };
    const onData = (chunk: Buffer | string): void => {
      text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      if (text.includes('\n')) done();
    };
    stdin.on('data', onData);
    stdin.once('end', done);
    stdin.once('error', reject);
  });
}
