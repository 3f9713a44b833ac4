import { expect } from 'vitest';
import { PeerConnectionError } from '../../src/federation/peer-errors.js';

/** The rejection of a promise that must fail with a PeerConnectionError. */
export async function peerFailure(promise: Promise<unknown>): Promise<PeerConnectionError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PeerConnectionError);
    return error as PeerConnectionError;
  }
  throw new Error('expected a failure');
}
