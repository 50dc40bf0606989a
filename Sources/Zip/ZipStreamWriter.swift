import Checksums

/// Writes a ZIP archive front to back into a stream that cannot seek (an HTTP response): each
/// entry STORED (zip files are mostly photos and PDFs, already compressed; storing keeps the
/// archive's length known before the first byte and costs no CPU), its CRC-32 computed while its
/// bytes pass, its sizes and CRC in a data descriptor after it (flag bit 3), its name UTF-8
/// (flag bit 11), ZIP64 records wherever a size, an offset or the entry count needs them
/// (APPNOTE.TXT 6.3.10 §4.3.9, §4.4.4, §4.5.3, §4.3.14). Only the central directory is kept in
/// memory, about 100 bytes an entry, so memory does not grow with the archive's size.
///
/// ZIPFoundation (the package at hand) was not used: its `Archive` writes through a `FILE *`
/// (a file, or memory), seeks back to patch each local header, and reads its own entries back to
/// write the central directory, so it can stream neither to a socket nor without keeping the
/// whole archive.
public final class ZipStreamWriter {
    /// A file to be stored: its name in the archive, its modification time (seconds since 1970,
    /// UTC) and its exact size, which the bytes then given must match.
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let modified: Int64
        public let size: Int64
        public init(name: String, modified: Int64, size: Int64) {
            self.name = name
            self.modified = modified
            self.size = size
        }
    }

    /// Why an archive could not be written as asked.
    public enum ZipError: Error, Equatable, CustomStringConvertible {
        /// An entry's bytes were not as many as announced (the archive would be corrupt).
        case sizeMismatch(name: String, expected: Int64, got: Int64)
        /// An entry was added after `finish`, or `finish` was called twice.
        case finished
        /// A name longer than the 65,535 bytes a header holds, or empty.
        case badName(String)

        public var description: String {
            switch self {
            case .sizeMismatch(let name, let expected, let got): "“\(name)”: \(got) bytes arrived where \(expected) were expected"
            case .finished: "the archive was already finished"
            case .badName(let name): "“\(name.prefix(40))”: not a name a ZIP entry can carry"
            }
        }
    }

    private struct Central {
        let name: [UInt8]
        let dosTime: UInt16, dosDate: UInt16
        let crc: UInt32
        let size: UInt64
        let offset: UInt64
    }

    private let output: (UnsafeRawBufferPointer) throws -> Void
    private var central: [Central] = []
    private var finished = false
    /// Bytes written so far.
    public private(set) var offset: Int64 = 0

    /// A writer sending every byte of the archive to `output`, in order.
    public init(output: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        self.output = output
    }

    /// Adds `entry`: `contents` is called once and hands its bytes, in pieces, to the function it
    /// is given. Throws `sizeMismatch` when they are not `entry.size` bytes.
    public func add(_ entry: Entry, contents: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        guard !finished else { throw ZipError.finished }
        let name = Array(entry.name.utf8)
        guard !name.isEmpty, name.count <= 0xFFFF else { throw ZipError.badName(entry.name) }
        let start = UInt64(offset)
        let (time, date) = Self.dosTime(entry.modified)
        let large = Self.isLarge(entry.size)
        // Local file header (§4.3.7): CRC and sizes follow in the data descriptor.
        var header = Bytes()
        header.u32(0x0403_4B50)
        header.u16(large ? 45 : 20)
        header.u16(Self.flags)
        header.u16(0)                   // STORED
        header.u16(time); header.u16(date)
        header.u32(0)                   // CRC-32: in the descriptor
        header.u32(large ? 0xFFFF_FFFF : 0); header.u32(large ? 0xFFFF_FFFF : 0)
        header.u16(UInt16(name.count))
        header.u16(large ? 20 : 0)
        header.bytes += name
        if large {
            // The ZIP64 extra field says the descriptor's sizes are 8 bytes (§4.3.9.2).
            header.u16(1); header.u16(16); header.u64(0); header.u64(0)
        }
        try emit(header.bytes)
        var crc = CRC32()
        var count: Int64 = 0
        try contents { piece in
            count += Int64(piece.count)
            guard count <= entry.size else { return }
            crc.update(piece)
            try self.emit(piece)
        }
        guard count == entry.size else { throw ZipError.sizeMismatch(name: entry.name, expected: entry.size, got: count) }
        var descriptor = Bytes()
        descriptor.u32(0x0807_4B50)
        descriptor.u32(crc.value)
        if large { descriptor.u64(UInt64(count)); descriptor.u64(UInt64(count)) } else { descriptor.u32(UInt32(count)); descriptor.u32(UInt32(count)) }
        try emit(descriptor.bytes)
        central.append(Central(name: name, dosTime: time, dosDate: date, crc: crc.value, size: UInt64(count), offset: start))
    }

    /// Writes the central directory and its end records; the archive is then complete.
    public func finish() throws {
        guard !finished else { throw ZipError.finished }
        finished = true
        let start = UInt64(offset)
        for entry in central {
            let bigSize = entry.size >= 0xFFFF_FFFF, bigOffset = entry.offset >= 0xFFFF_FFFF
            var extra = Bytes()
            if bigSize || bigOffset {
                // §4.5.3: only the fields whose header value is 0xFFFFFFFF, in this order.
                extra.u16(1)
                extra.u16(UInt16((bigSize ? 16 : 0) + (bigOffset ? 8 : 0)))
                if bigSize { extra.u64(entry.size); extra.u64(entry.size) }
                if bigOffset { extra.u64(entry.offset) }
            }
            var record = Bytes()
            record.u32(0x0201_4B50)
            record.u16(3 << 8 | 45)         // made by: UNIX, APPNOTE 4.5
            record.u16(bigSize || bigOffset ? 45 : 20)
            record.u16(Self.flags)
            record.u16(0)
            record.u16(entry.dosTime); record.u16(entry.dosDate)
            record.u32(entry.crc)
            record.u32(bigSize ? 0xFFFF_FFFF : UInt32(entry.size)); record.u32(bigSize ? 0xFFFF_FFFF : UInt32(entry.size))
            record.u16(UInt16(entry.name.count))
            record.u16(UInt16(extra.bytes.count))
            record.u16(0); record.u16(0); record.u16(0)   // comment, disk, internal attributes
            record.u32(0o100644 << 16)                      // a regular file, rw-r--r--
            record.u32(bigOffset ? 0xFFFF_FFFF : UInt32(entry.offset))
            record.bytes += entry.name + extra.bytes
            try emit(record.bytes)
        }
        let size = UInt64(offset) - start
        let count = UInt64(central.count)
        var end = Bytes()
        if count >= 0xFFFF || size >= 0xFFFF_FFFF || start >= 0xFFFF_FFFF {
            let record = UInt64(offset)
            end.u32(0x0606_4B50); end.u64(44); end.u16(3 << 8 | 45); end.u16(45)
            end.u32(0); end.u32(0); end.u64(count); end.u64(count); end.u64(size); end.u64(start)
            end.u32(0x0706_4B50); end.u32(0); end.u64(record); end.u32(1)
        }
        end.u32(0x0605_4B50); end.u16(0); end.u16(0)
        end.u16(UInt16(min(count, 0xFFFF))); end.u16(UInt16(min(count, 0xFFFF)))
        end.u32(UInt32(min(size, 0xFFFF_FFFF))); end.u32(UInt32(min(start, 0xFFFF_FFFF)))
        end.u16(0)
        try emit(end.bytes)
        central = []
    }

    /// The exact length of the archive these entries make, in this order: what a response
    /// declares as its Content-Length before the first byte.
    public static func length(of entries: [Entry]) -> Int64 {
        var total: Int64 = 0, centralSize: Int64 = 0
        for entry in entries {
            let name = Int64(entry.name.utf8.count), large = isLarge(entry.size)
            let bigOffset = total >= 0xFFFF_FFFF
            total += 30 + name + (large ? 20 : 0) + entry.size + (large ? 24 : 16)
            let bigSize = entry.size >= 0xFFFF_FFFF
            centralSize += 46 + name + (bigSize || bigOffset ? 4 + (bigSize ? 16 : 0) + (bigOffset ? 8 : 0) : 0)
        }
        let zip64 = entries.count >= 0xFFFF || centralSize >= 0xFFFF_FFFF || total >= 0xFFFF_FFFF
        return total + centralSize + (zip64 ? 56 + 20 : 0) + 22
    }

    /// Data descriptor, UTF-8 names.
    private static let flags: UInt16 = 1 << 3 | 1 << 11

    /// Whether an entry of `size` bytes needs 8-byte sizes.
    private static func isLarge(_ size: Int64) -> Bool { size >= 0xFFFF_FFFF }

    private func emit(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try emit($0) } }

    private func emit(_ bytes: UnsafeRawBufferPointer) throws {
        try output(bytes)
        offset += Int64(bytes.count)
    }

    /// MS-DOS time and date (2-second steps, years 1980–2107) of a UTC instant, clamped to that range.
    static func dosTime(_ epoch: Int64) -> (time: UInt16, date: UInt16) {
        let clamped = min(max(epoch, 315_532_800), 4_354_819_199)
        let days = clamped >= 0 ? clamped / 86400 : (clamped - 86399) / 86400
        let seconds = clamped - days * 86400
        // Days to a civil date (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        let time = UInt16(seconds / 3600) << 11 | UInt16(seconds % 3600 / 60) << 5 | UInt16(seconds % 60 / 2)
        let date = UInt16(year - 1980) << 9 | UInt16(month) << 5 | UInt16(day)
        return (time, date)
    }
}

/// Little-endian fields of a header.
private struct Bytes {
    var bytes: [UInt8] = []
    mutating func u16(_ v: UInt16) { bytes += [UInt8(v & 0xFF), UInt8(v >> 8)] }
    mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(v >> (8 * UInt32(i)) & 0xFF)) } }
    mutating func u64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(v >> (8 * UInt64(i)) & 0xFF)) } }
}
