// node:crypto as the hash the SDK's SigV4 signer takes (its own is internal to it): the suites sign
// requests themselves, as a client of a Function URL does.
import { createHash, createHmac } from 'node:crypto';
import type { SourceData } from '@smithy/types';

export class Sha256 {
  private readonly h;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', secret as string | Uint8Array);
  }
  update(data: SourceData) {
    this.h.update(data as string | Uint8Array);
  }
  async digest() {
    return new Uint8Array(this.h.digest());
  }
  reset() {}
}
