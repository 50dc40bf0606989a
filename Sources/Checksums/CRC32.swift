import CZlib

/// The CRC-32 of ZIP, gzip and PNG (ISO 3309 polynomial, reflected), over data that arrives in
/// pieces, from zlib. zlib rather than a table here: it is the reference implementation, and it
/// computes several bytes per step (several GB/s), where a byte-wise table in Swift costs a
/// zip of a large file noticeable CPU, and far more in a debug build.
public struct CRC32: Sendable, Equatable {
    /// The checksum of the bytes so far (0 for none).
    public private(set) var value: UInt32 = 0

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        value = czlib_crc32(value, base, bytes.count)
    }

    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The checksum of `bytes` alone.
    public static func of(_ bytes: [UInt8]) -> UInt32 {
        var crc = CRC32()
        crc.update(bytes)
        return crc.value
    }
}
