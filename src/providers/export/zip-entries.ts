/**
 * What `fflate` does not tell: the file type a zip entry records. `readSkillZip` (`skill-content.ts`) checks paths
 * and sizes, but `fflate`'s reader exposes neither an entry's "version made by" nor its external attributes, where a
 * Unix zip marks a symbolic link (PKWARE APPNOTE 6.3.10, section 4.4.2 and 4.4.15: host 3 = Unix, the upper 16 bits
 * of the external attributes are the `st_mode`). Export writes a skill's files to disk, so it reads the central
 * directory itself and refuses any entry that is not a regular file or a directory: a link, a device, a FIFO.
 *
 * Pure: bytes in, entry names out. Bounded: at most `limit` entries are read, and every offset is checked against
 * the buffer (a malformed directory is an error, never an out-of-range read).
 */

/** Signatures (APPNOTE 4.3.16, 4.3.12, 4.3.14, 4.3.15). */
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_FILE_HEADER = 0x02014b50;
const ZIP64_END_LOCATOR = 0x07064b50;
const ZIP64_END = 0x06064b50;

/** Host system "UNIX" in the upper byte of "version made by" (APPNOTE 4.4.2.2). */
const HOST_UNIX = 3;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

/** An entry whose recorded type is not a regular file or a directory. */
export interface SpecialEntry {
  name: string;
  /** `symbolic link`, or `special file` (device, FIFO, socket). */
  type: "symbolic link" | "special file";
}

/** Thrown when the central directory cannot be read. */
export class ZipDirectoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ZipDirectoryError";
  }
}

/**
 * The entries of the zip `bytes` that are recorded as symbolic links or special files (Unix hosts only: other hosts
 * record DOS attributes, which have no link type).
 * @param limit the most entries to read (the caller's file limit, plus one)
 * @throws ZipDirectoryError when there is no end-of-central-directory record, or the directory runs past the buffer
 */
export function specialEntries(bytes: Uint8Array, limit: number): SpecialEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (at: number) => {
    if (at < 0 || at + 4 > bytes.length) throw new ZipDirectoryError("its central directory runs past its end");
    return view.getUint32(at, true);
  };
  const u16 = (at: number) => {
    if (at < 0 || at + 2 > bytes.length) throw new ZipDirectoryError("its central directory runs past its end");
    return view.getUint16(at, true);
  };
  let end = bytes.length - 22;
  const stop = Math.max(0, bytes.length - 22 - 0xffff);
  while (end >= stop && !(end >= 0 && u32(end) === END_OF_CENTRAL_DIRECTORY)) end--;
  if (end < stop || end < 0) throw new ZipDirectoryError("it has no end-of-central-directory record");
  let count = u16(end + 10);
  let offset = u32(end + 16);
  if (end >= 20 && u32(end - 20) === ZIP64_END_LOCATOR) {
    const zip64 = Number(view.getBigUint64(end - 12, true));
    if (zip64 + 56 <= bytes.length && u32(zip64) === ZIP64_END) {
      count = Number(view.getBigUint64(zip64 + 32, true));
      offset = Number(view.getBigUint64(zip64 + 48, true));
    }
  }
  const out: SpecialEntry[] = [];
  const decoder = new TextDecoder();
  for (let i = 0; i < Math.min(count, limit); i++) {
    if (u32(offset) !== CENTRAL_FILE_HEADER) throw new ZipDirectoryError("its central directory is malformed");
    const host = u16(offset + 4) >> 8;
    const nameLength = u16(offset + 28);
    const extraLength = u16(offset + 30);
    const commentLength = u16(offset + 32);
    const attributes = u32(offset + 38);
    if (offset + 46 + nameLength > bytes.length) throw new ZipDirectoryError("its central directory runs past its end");
    const name = decoder.decode(bytes.subarray(offset + 46, offset + 46 + nameLength));
    if (host === HOST_UNIX) {
      const type = (attributes >>> 16) & S_IFMT;
      if (type === 0o120000) out.push({ name, type: "symbolic link" });
      else if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) out.push({ name, type: "special file" });
    }
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return out;
}
