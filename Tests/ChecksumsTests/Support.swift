/// Lower-case hex, to compare digests with published vectors (the tests of this module use no
/// other module, Sodium's `hex` included).
func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] })
}

/// Feeds `bytes` to `update` in pieces of `piece` bytes (the last one shorter).
func feed(_ bytes: [UInt8], pieces piece: Int, _ update: (UnsafeRawBufferPointer) -> Void) {
    var start = 0
    while start < bytes.count {
        let end = min(start + piece, bytes.count)
        bytes[start..<end].withUnsafeBytes { update($0) }
        start = end
    }
}
