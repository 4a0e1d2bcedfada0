/**
 * Decoding the bytes of a file we read as text (spec files, `system_file` prompts). Node's `readFile(f, "utf8")`
 * silently turns invalid bytes into U+FFFD, so a binary file would be published as garbage: decode strictly instead.
 */

/** A decoded text, or why the bytes are not text. */
export type DecodedText = { ok: true; text: string } | { ok: false; message: string };

/**
 * Decodes `bytes` as UTF-8 (WHATWG `TextDecoder` with `fatal: true`; a leading byte-order mark is dropped). Refuses
 * invalid UTF-8 and NUL bytes (U+0000: text never holds it; binary files almost always do), naming the byte offset
 * of the first bad byte.
 */
export function decodeUtf8(bytes: Uint8Array): DecodedText {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, message: `is not UTF-8 text (invalid byte at offset ${firstInvalidByte(bytes)})` };
  }
  const nul = bytes.indexOf(0);
  if (nul !== -1) return { ok: false, message: `is not text: it holds a NUL byte at offset ${nul}` };
  return { ok: true, text };
}

/**
 * The offset where the first invalid UTF-8 sequence starts, for messages. A streaming decoder accepts a prefix that
 * ends inside a character, so the longest accepted prefix (binary search) ends at the byte where decoding fails; when
 * that byte breaks a sequence begun just before it (a lead byte without enough continuation bytes), the sequence's
 * lead byte is reported. The file's length when it ends mid-character.
 */
function firstInvalidByte(bytes: Uint8Array): number {
  let low = 0;
  let high = bytes.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, mid), { stream: true });
      low = mid;
    } catch {
      high = mid - 1;
    }
  }
  for (let back = 1; back <= 3 && back <= low; back++) {
    const byte = bytes[low - back] ?? 0;
    if (byte >= 0x80 && byte < 0xc0) continue; // a continuation byte: look further back for its lead
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return length > back ? low - back : low;
  }
  return low;
}
