// Answers leave as UTF-8 bytes made in small pieces, never as one string.
//
// yoga's own path spent more on a large answer's memory than on serializing
// it (bench/README.md, "answers as bytes"):
//   - JSON.stringify's text of a large answer is a rope of parts; its first
//     reader (the Response's byte count) flattens it into one fresh string in
//     V8's large-object space, memory mapped for that answer alone;
//   - writing a string to a socket makes node allocate and zero three bytes
//     per character, then encode it, again for each answer.
// Here an answer is serialized a piece at a time (a run of array items, or
// the keys above them), each piece one JSON.stringify call small enough for
// V8's young generation, and the pieces are encoded straight into one buffer
// of the exact size. The bytes are those of JSON.stringify(answer): the same
// text, cut elsewhere.
import { isAsyncIterable, type Plugin } from 'graphql-yoga';

/** Characters of JSON in one piece at most, past which an item of an array is serialized part by part. */
export const PIECE_CHARS = 32 * 1024;
/** Deeper than this, a value is serialized whole (JSON.stringify's own errors, a cycle's included, then surface). */
const MAX_DEPTH = 64;

/** A value JSON.stringify reads key by key: a record, not a class instance nor anything with toJSON. */
function isRecord(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value) as unknown;
  return (proto === null || proto === Object.prototype) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

/** Whether JSON.stringify leaves out a record's property holding this. */
const omitted = (value: unknown) => value === undefined || typeof value === 'function' || typeof value === 'symbol';

/**
 * Records are walked key by key down to the arrays (an answer's few levels
 * above its lists); an array's items are serialized whole, a run of them per
 * piece, unless an item alone is larger than a piece: that one is walked too
 * (its text, made once to learn its size, is dropped).
 */
function collect(value: unknown, pieces: string[], depth: number): void {
  if (depth < MAX_DEPTH && value !== null && typeof value === 'object') {
    if (Array.isArray(value)) return collectArray(value, pieces, depth);
    if (isRecord(value)) return collectRecord(value, pieces, depth);
  }
  pieces.push(JSON.stringify(value) ?? 'null');
}

function collectRecord(record: Record<string, unknown>, pieces: string[], depth: number): void {
  let separator = '{';
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (omitted(value)) continue;
    pieces.push(`${separator}${JSON.stringify(key)}:`);
    separator = ',';
    collect(value, pieces, depth + 1);
  }
  pieces.push(separator === '{' ? '{}' : '}');
}

function collectArray(items: readonly unknown[], pieces: string[], depth: number): void {
  let run = '[';
  for (let i = 0; i < items.length; i++) {
    // undefined, a function or a symbol: what JSON.stringify writes for one in an array.
    const text = JSON.stringify(items[i]) ?? 'null';
    if (i > 0) run += ',';
    if (text.length > PIECE_CHARS && depth < MAX_DEPTH && typeof items[i] === 'object') {
      pieces.push(run);
      run = '';
      collect(items[i], pieces, depth + 1);
      continue;
    }
    if (run.length + text.length > PIECE_CHARS) {
      pieces.push(run);
      run = '';
    }
    run += text;
  }
  pieces.push(`${run}]`);
}

/** JSON.stringify(value) as pieces of about PIECE_CHARS at most (a run may add its bracket and comma); a longer piece is one scalar. */
export function jsonPieces(value: unknown): string[] {
  const pieces: string[] = [];
  collect(value, pieces, 0);
  return pieces;
}

/** The UTF-8 bytes of JSON.stringify(value), for a value it writes (not undefined, a function or a symbol). */
export function jsonBytes(value: unknown): Buffer {
  const pieces = jsonPieces(value);
  if (pieces.length === 1) return Buffer.from(pieces[0]!, 'utf8');
  let size = 0;
  for (const piece of pieces) size += Buffer.byteLength(piece, 'utf8');
  // Every byte is written below: nothing of the buffer's earlier content remains.
  const bytes = Buffer.allocUnsafe(size);
  let offset = 0;
  for (const piece of pieces) offset += bytes.write(piece, offset, 'utf8');
  return bytes;
}

/**
 * Makes yoga serialize each single result with jsonBytes. yoga hands what a
 * result's `stringify` returns to the Response as its body, which sends bytes
 * as they are; where yoga splices the text into more (SSE, multipart), the
 * buffer turns back into the same text (Buffer's toString is UTF-8).
 */
export function useJsonBytes(): Plugin {
  const stringify = jsonBytes as unknown as (result: unknown) => string;
  return {
    onResultProcess: ({ result, setResult }) => {
      if (Array.isArray(result) || isAsyncIterable(result)) return;
      setResult({ ...result, stringify });
    },
  };
}
