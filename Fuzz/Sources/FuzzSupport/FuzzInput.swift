/// A fuzzer's input read as a few small numbers (which case, where to split) followed by data,
/// so that one input describes both a case and how it is fed. Reading past the end gives zeros
/// and empty data: every input is a valid case.
public struct FuzzInput {
    private let bytes: [UInt8]
    private var position = 0

    /// The `count` bytes at `start`, as `LLVMFuzzerTestOneInput` receives them.
    public init(_ start: UnsafeRawPointer, _ count: Int) {
        bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    }

    /// Whether everything has been read.
    public var isEmpty: Bool { position >= bytes.count }

    /// The next byte, 0 past the end.
    public mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    /// The next two bytes as a little-endian number.
    public mutating func uint16() -> Int { Int(byte()) | Int(byte()) << 8 }

    /// The next eight bytes as a little-endian number.
    public mutating func uint64() -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 8) { value |= UInt64(byte()) << UInt64(shift) }
        return value
    }

    /// Up to `count` next bytes.
    public mutating func take(_ count: Int) -> [UInt8] {
        let end = min(bytes.count, position + max(0, count))
        defer { position = end }
        return Array(bytes[min(position, end)..<end])
    }

    /// Everything not read yet.
    public mutating func rest() -> [UInt8] { take(bytes.count) }

    /// The bytes up to (not including) the next `separator`, which is consumed; the rest when
    /// there is none.
    public mutating func field(until separator: UInt8) -> [UInt8] {
        let start = min(position, bytes.count)
        var end = start
        while end < bytes.count && bytes[end] != separator { end += 1 }
        position = end + 1
        return Array(bytes[start..<end])
    }
}

/// Sorted cut points inside `0...length`, derived from `seeds`: where to split one body into
/// pieces fed one after the other.
public func cuts(_ seeds: [Int], length: Int) -> [Int] {
    guard length > 0 else { return [] }
    return Set(seeds.map { $0 % (length + 1) }).sorted()
}

/// Stops the fuzzer with `message` when the oracle does not hold: libFuzzer reports the input.
public func require(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    if !condition { fatalError("oracle failed: \(message())", file: file, line: line) }
}
