import { LogDemuxer } from './environments';
import { billedDurationMs, initReportLine, reportLine } from './function-log';

describe("Lambda's own log lines", () => {
  it('REPORT: tab-separated, Billed Duration rounded up with the init, Init Duration and Status when there are', () => {
    expect(reportLine({ requestId: 'r1', durationMs: 27.55, memorySizeMb: 128, maxMemoryUsedMb: 70.2 })).toBe('REPORT RequestId: r1\tDuration: 27.55 ms\tBilled Duration: 28 ms\tMemory Size: 128 MB\tMax Memory Used: 71 MB');
    expect(reportLine({ requestId: 'r2', durationMs: 100, memorySizeMb: 512, maxMemoryUsedMb: 60, initDurationMs: 150.79 })).toBe('REPORT RequestId: r2\tDuration: 100.00 ms\tBilled Duration: 251 ms\tMemory Size: 512 MB\tMax Memory Used: 60 MB\tInit Duration: 150.79 ms');
    expect(reportLine({ requestId: 'r3', durationMs: 3000, memorySizeMb: 128, status: { kind: 'timeout' } })).toMatch(/Max Memory Used: - MB\tStatus: timeout$/);
    expect(reportLine({ requestId: 'r4', durationMs: 5, memorySizeMb: 128, status: { kind: 'error', errorType: 'Runtime.ExitError' } })).toMatch(/\tStatus: error\tError Type: Runtime.ExitError$/);
    expect(billedDurationMs(0.2)).toBe(1);
  });

  it('INIT_REPORT names the phase and the status', () => {
    expect(initReportLine({ durationMs: 9999.79, phase: 'init', status: 'timeout' })).toBe('INIT_REPORT Init Duration: 9999.79 ms\tPhase: init\tStatus: timeout');
    expect(initReportLine({ durationMs: 150.79, phase: 'invoke', status: 'error', errorType: 'Runtime.UserCodeSyntaxError' })).toBe('INIT_REPORT Init Duration: 150.79 ms\tPhase: invoke\tStatus: error\tError Type: Runtime.UserCodeSyntaxError');
  });
});

describe("an environment's output (Docker's multiplexed stream)", () => {
  const frame = (stream: 1 | 2, text: string) => {
    const body = Buffer.from(text);
    const header = Buffer.alloc(8);
    header[0] = stream;
    header.writeUInt32BE(body.length, 4);
    return Buffer.concat([header, body]);
  };

  it('becomes lines, whatever the chunks: a frame cut in two, a line cut across frames, stdout and stderr apart', () => {
    const lines: string[] = [];
    const demuxer = new LogDemuxer((line, stream) => lines.push(`${stream}: ${line}`));
    const all = Buffer.concat([frame(1, 'one\ntw'), frame(2, 'oops\n'), frame(1, 'o\nthree'), frame(1, '\r\n')]);
    for (let i = 0; i < all.length; i += 5) demuxer.push(all.subarray(i, i + 5));
    demuxer.push(frame(2, 'last words'));
    demuxer.end();
    expect(lines).toEqual(['stdout: one', 'stderr: oops', 'stdout: two', 'stdout: three', 'stderr: last words']);
  });
});
